// Rubric edit form: add criteria and levels in place, and remove a row at once with an undo, without a
// round trip to the server. Without JavaScript the same buttons post the form and the server adds or moves
// the row, and rows go with a "remove when saving" checkbox (nothing is lost either way).
(function () {
  "use strict";
  var form = document.querySelector("form.rubric-form");
  if (!form) { return; }
  var announcer = form.querySelector("#form-announcer");

  // With this script, removal is immediate (and undoable): show its buttons instead of the checkboxes.
  form.querySelectorAll("[data-remove]").forEach(function (button) { button.hidden = false; });
  form.querySelectorAll("[data-deferred-remove]").forEach(function (label) { label.hidden = true; });

  function announce(text) {
    if (!announcer) { return; }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);  // re-read even if unchanged
  }

  function nextIndex(container, selector, pattern) {
    var highest = -1;
    container.querySelectorAll(selector).forEach(function (element) {
      var match = pattern.exec(element.getAttribute("name") || "");
      if (match) { highest = Math.max(highest, parseInt(match[1], 10)); }
    });
    return highest + 1;
  }

  function criterionIndex(fieldset) { return fieldset.dataset.index; }

  function setHiddenText(button, text) {
    var hidden = button.querySelector(".visually-hidden");
    if (hidden) { hidden.textContent = text; }
  }

  // Labels, legends and buttons say where each row is now: "Level 4" after adding a fourth level,
  // "Criterion 2" after the first one was removed. The server numbers them the same way.
  function renumber() {
    var fieldsets = form.querySelectorAll(".criteria > .criterion-fields");
    fieldsets.forEach(function (fieldset, position) {
      var index = criterionIndex(fieldset);
      var number = position + 1;
      var title = fieldset.querySelector("input[name='criteria-" + index + "-title']");
      var legend = fieldset.querySelector("legend");
      if (legend) {
        legend.textContent = "Criterion " + number + (title && title.value.trim() ? ": " + title.value.trim() : "");
      }
      var up = fieldset.querySelector("button[data-move=up]");
      var down = fieldset.querySelector("button[data-move=down]");
      if (up) { up.value = up.id = "move-up-" + index; up.hidden = position === 0; setHiddenText(up, " criterion " + number); }
      if (down) {
        down.value = down.id = "move-down-" + index;
        down.hidden = position === fieldsets.length - 1;
        setHiddenText(down, " criterion " + number);
      }
      var removeCriterion = fieldset.querySelector(".row-actions button[data-remove=criterion]");
      if (removeCriterion) { setHiddenText(removeCriterion, " criterion " + number); }
      var addLevel = fieldset.querySelector("button[data-add=level]");
      if (addLevel) { addLevel.value = "add-level-" + index; }
      fieldset.querySelectorAll(".level-fields").forEach(function (row, levelPosition) {
        var label = row.querySelector("label[for$='-title']");
        if (label) { label.textContent = "Level " + (levelPosition + 1); }
        var removeLevel = row.querySelector("button[data-remove=level]");
        if (removeLevel) { setHiddenText(removeLevel, " level " + (levelPosition + 1)); }
      });
    });
  }

  // Copy a row, point its names/ids at a new index, and empty it (identifiers are made on the server).
  function blankCopy(row, from, to) {
    var copy = row.cloneNode(true);
    copy.querySelectorAll(".field-problems").forEach(function (node) { node.remove(); });
    copy.querySelectorAll(".removed-row").forEach(function (node) { node.remove(); });
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
      node.removeAttribute("autofocus");
      if (node.tagName === "TEXTAREA") { node.value = ""; }
      if (node.tagName === "INPUT" && (node.type === "text" || node.type === "hidden")) { node.value = ""; }
      if (node.tagName === "INPUT" && node.type === "checkbox") { node.checked = false; }
    });
    return copy;
  }

  function addLevel(button) {
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
    renumber();
    copy.querySelector("input[type=text]").focus();
  }

  function addCriterion(button) {
    var list = form.querySelector(".criteria");
    var fieldsets = list.querySelectorAll(".criterion-fields");
    if (!fieldsets.length) { form.requestSubmit(button); return; }
    var lastCriterion = fieldsets[fieldsets.length - 1];
    var from = criterionIndex(lastCriterion);
    var to = nextIndex(list, "[name]", /criteria-(\d+)-/);
    var fresh = blankCopy(lastCriterion, "criteria-" + from + "-", "criteria-" + to + "-");
    fresh.id = "field-criteria-" + to;
    fresh.dataset.index = String(to);
    list.appendChild(fresh);
    renumber();
    fresh.querySelector("input[type=text]").focus();
  }

  // Take the row out of the form at once (its fields are no longer posted) and leave an undo in its place.
  function removeRow(button) {
    var row = button.closest(".criterion-fields, .level-fields");
    if (!row) { return; }
    var isCriterion = row.classList.contains("criterion-fields");
    var label = isCriterion ? row.querySelector("legend") : row.querySelector("label[for$='-title']");
    var name = label ? label.textContent.trim() : (isCriterion ? "Criterion" : "Level");
    var title = row.querySelector("input[name$='-title']");
    if (!isCriterion && title && title.value.trim()) { name += " “" + title.value.trim() + "”"; }

    var notice = document.createElement("div");
    notice.className = "removed-row";
    notice.setAttribute("data-testid", "removed-row");
    var text = document.createElement("span");
    text.textContent = name + " removed.";
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = "button button-secondary button-small";
    undo.setAttribute("data-testid", "undo-remove");
    undo.textContent = "Undo";
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ": bring back " + name;
    undo.appendChild(hidden);
    notice.appendChild(text);
    notice.appendChild(undo);

    row.replaceWith(notice);
    renumber();
    announce(name + " removed. Undo brings it back; saving the rubric removes it for good.");
    undo.addEventListener("click", function () {
      notice.replaceWith(row);
      renumber();
      announce(name + " is back.");
      var again = row.querySelector("button[data-remove]");
      if (again) { again.focus(); }
    });
    undo.focus();
  }

  form.addEventListener("click", function (event) {
    var remove = event.target.closest("button[data-remove]");
    if (remove) {
      event.preventDefault();
      removeRow(remove);
      return;
    }
    var button = event.target.closest("button[data-add]");
    if (!button) { return; }
    event.preventDefault();
    if (button.dataset.add === "level") { addLevel(button); } else { addCriterion(button); }
  });
}());
