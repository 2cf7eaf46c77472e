// The learner's work-product form (lti_tool/templates/deliverables/work_product.html): before it is sent,
// files over the size limit and too many files are shown beside the file input, with the server's own
// messages (the form's data attributes). A file larger than a whole request would otherwise be refused
// before Cadre reads the form, losing the text typed; the server checks everything again anyway.
(function () {
  "use strict";
  var form = document.querySelector("form[data-max-file-bytes]");
  if (!form) { return; }
  var input = form.querySelector('input[type="file"]');
  var maxBytes = parseInt(form.getAttribute("data-max-file-bytes"), 10);
  var maxFiles = parseInt(form.getAttribute("data-max-files"), 10);
  var tooBig = form.getAttribute("data-too-big") || "";
  var tooMany = form.getAttribute("data-too-many") || "";
  if (!input || !input.files || !maxBytes || !maxFiles) { return; }
  var hint = input.getAttribute("aria-describedby") || "";

  function show(messages) {
    var list = document.getElementById("problems-files-browser");
    if (!messages.length) {
      if (list) { list.remove(); }
      input.setAttribute("aria-describedby", hint);
      if (!document.getElementById("problems-files")) { input.removeAttribute("aria-invalid"); }
      return;
    }
    if (!list) {
      list = document.createElement("ul");
      list.id = "problems-files-browser";
      list.className = "field-problems";
      list.setAttribute("data-testid", "browser-problems");
      input.parentNode.appendChild(list);
    }
    list.textContent = "";
    messages.forEach(function (message) {
      var item = document.createElement("li");
      item.textContent = message;
      list.appendChild(item);
    });
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", (hint + " problems-files-browser").trim());
  }

  function problems() {
    var messages = [];
    var kept = form.querySelectorAll('input[name="keep_file"]:checked').length;
    var count = input.files.length + kept;
    if (count > maxFiles) {
      messages.push(tooMany.replace("{count}", String(count)));
      return messages;
    }
    Array.prototype.forEach.call(input.files, function (file) {
      if (file.size > maxBytes) { messages.push(tooBig.replace("{name}", file.name)); }
    });
    return messages;
  }

  input.addEventListener("change", function () { show(problems()); });
  form.addEventListener("submit", function (event) {
    var messages = problems();
    show(messages);
    if (messages.length) {
      event.preventDefault();
      input.focus();
    }
  });
}());
