// Rubric edit form: add criteria and levels in place, without a round trip to the server.
// Without JavaScript the same buttons post the form and the server adds the row (nothing is lost either way).
(function () {
  "use strict";
  var form = document.querySelector("form.rubric-form");
  if (!form) { return; }

  function nextIndex(container, selector, pattern) {
    var highest = -1;
    container.querySelectorAll(selector).forEach(function (element) {
      var match = pattern.exec(element.getAttribute("name") || "");
      if (match) { highest = Math.max(highest, parseInt(match[1], 10)); }
    });
    return highest + 1;
  }

  // Copy a row, point its names/ids at a new index, and empty it (identifiers are made on the server).
  function blankCopy(row, from, to) {
    var copy = row.cloneNode(true);
    copy.querySelectorAll(".field-problems").forEach(function (node) { node.remove(); });
    copy.classList.remove("field-invalid");
    copy.querySelectorAll(".field-invalid").forEach(function (node) { node.classList.remove("field-invalid"); });
    [copy].concat(Array.prototype.slice.call(copy.querySelectorAll("*"))).forEach(function (node) {
      ["name", "id", "for", "aria-describedby", "value"].forEach(function (attribute) {
        var value = node.getAttribute(attribute);
        if (value && value.indexOf(from) !== -1 && (attribute !== "value" || node.tagName === "BUTTON")) {
          node.setAttribute(attribute, value.split(from).join(to));
        }
      });
      node.removeAttribute("aria-invalid");
      if (node.tagName === "TEXTAREA") { node.value = ""; }
      if (node.tagName === "INPUT" && (node.type === "text" || node.type === "hidden")) { node.value = ""; }
      if (node.tagName === "INPUT" && node.type === "checkbox") { node.checked = false; }
    });
    return copy;
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-add]");
    if (!button) { return; }
    event.preventDefault();
    if (button.dataset.add === "level") {
      var levels = button.closest(".levels");
      var rows = levels.querySelectorAll(".level-fields");
      if (!rows.length) { form.requestSubmit(button); return; }
      var last = rows[rows.length - 1];
      var criterion = /criteria-(\d+)-levels-(\d+)-/.exec(last.querySelector("[name]").getAttribute("name"));
      var index = nextIndex(levels, "[name]", new RegExp("criteria-" + criterion[1] + "-levels-(\\d+)-"));
      var copy = blankCopy(last, "criteria-" + criterion[1] + "-levels-" + criterion[2] + "-",
                           "criteria-" + criterion[1] + "-levels-" + index + "-");
      // The id of the row itself has no trailing dash.
      copy.id = "field-criteria-" + criterion[1] + "-levels-" + index;
      levels.insertBefore(copy, button);
      copy.querySelector("input[type=text]").focus();
    } else {
      var list = form.querySelector(".criteria");
      var fieldsets = list.querySelectorAll(".criterion-fields");
      if (!fieldsets.length) { form.requestSubmit(button); return; }
      var lastCriterion = fieldsets[fieldsets.length - 1];
      var from = lastCriterion.dataset.index;
      var to = nextIndex(list, "[name]", /criteria-(\d+)-/);
      var fresh = blankCopy(lastCriterion, "criteria-" + from + "-", "criteria-" + to + "-");
      fresh.id = "field-criteria-" + to;
      fresh.dataset.index = String(to);
      fresh.querySelector("legend").textContent = "New criterion";
      var addLevel = fresh.querySelector("button[data-add=level]");
      addLevel.value = "add-level-" + to;
      list.appendChild(fresh);
      fresh.querySelector("input[type=text]").focus();
    }
  });
}());
