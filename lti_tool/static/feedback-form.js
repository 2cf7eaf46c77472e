// Autosave for the feedback form (lti_tool/templates/feedback/form.html). The form works without it: Save
// draft and Submit post it. With it, what is typed is sent every few seconds, and when the page is hidden
// or closed, to the form's data-autosave-url as JSON with the draft revision it started from. The server
// refuses a save from an older revision (409, another tab or device saved since) and answers its copy,
// which is shown here: nothing is overwritten silently. Every change is also kept in this browser
// (localStorage) until the server has it, so a closed tab, a lost connection or an expired launch loses
// nothing: the copy is offered again on the next visit.
(function () {
  "use strict";
  var INTERVAL = 4000;
  var form = document.querySelector("form[data-autosave-url]");
  if (!form || !window.fetch || !window.JSON) { return; }
  var url = form.getAttribute("data-autosave-url");
  var revisionField = form.querySelector('input[name="draft_revision"]');
  var status = form.querySelector(".autosave-status");
  var conflictBox = form.querySelector(".autosave-conflict");
  var key = "cadre-draft:" + url;
  var dirty = false, inFlight = null, stopped = false, submitting = false;

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute("content") : "";
  }
  function launchToken() {
    try { return window.sessionStorage.getItem("cadre-launch") || meta("cadre-launch"); }
    catch (e) { return meta("cadre-launch"); }
  }
  function store(value) {
    try {
      if (value === null) { window.localStorage.removeItem(key); }
      else { window.localStorage.setItem(key, JSON.stringify(value)); }
    } catch (e) { /* storage refused or full: the server copy is the only one */ }
  }
  function stored() {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function say(text) { if (status) { status.textContent = text; } }

  function collect() {
    var content = { criteria: {}, strengths: "", next_steps: "" };
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-criterion]"), function (set) {
      var id = set.getAttribute("data-criterion");
      var checked = set.querySelector('input[type="radio"]:checked');
      var points = set.querySelector('input[name="points-' + id + '"]');
      var comment = set.querySelector('textarea[name="comment-' + id + '"]');
      content.criteria[id] = {
        level: checked ? checked.value : "",
        points: points ? points.value : "",
        comment: comment ? comment.value : ""
      };
    });
    content.strengths = form.elements.strengths.value;
    content.next_steps = form.elements.next_steps.value;
    return content;
  }
  function fill(content) {
    Object.keys(content.criteria || {}).forEach(function (id) {
      var answer = content.criteria[id];
      var set = form.querySelector('fieldset[data-criterion="' + id.replace(/"/g, "") + '"]');
      if (!set) { return; }
      Array.prototype.forEach.call(set.querySelectorAll('input[type="radio"]'), function (radio) {
        radio.checked = radio.value === answer.level;
      });
      var points = set.querySelector('input[name="points-' + id + '"]');
      if (points) { points.value = answer.points || ""; }
      var comment = set.querySelector('textarea[name="comment-' + id + '"]');
      if (comment) { comment.value = answer.comment || ""; }
    });
    form.elements.strengths.value = content.strengths || "";
    form.elements.next_steps.value = content.next_steps || "";
    form.dispatchEvent(new Event("cadre-filled"));  // feedback-total.js explains the total again
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function showConflict(answer) {
    stopped = true;
    conflictBox.hidden = false;
    conflictBox.textContent = "";
    var message = document.createElement("p");
    message.textContent = answer.error || "This draft was changed from another tab or device.";
    var keep = document.createElement("button");
    keep.type = "button";
    keep.className = "button";
    keep.textContent = "Keep mine (save over the other copy)";
    keep.setAttribute("data-testid", "keep-mine");
    var take = document.createElement("button");
    take.type = "button";
    take.className = "button secondary";
    take.textContent = "Take the saved copy";
    take.setAttribute("data-testid", "take-saved");
    keep.addEventListener("click", function () {
      revisionField.value = String(answer.draft_revision);
      conflictBox.hidden = true;
      stopped = false;
      dirty = true;
      save(false);
    });
    take.addEventListener("click", function () {
      fill(answer.content || {});
      revisionField.value = String(answer.draft_revision);
      store(null);
      conflictBox.hidden = true;
      stopped = false;
      dirty = false;
      say("You took the copy saved elsewhere.");
    });
    conflictBox.appendChild(message);
    conflictBox.appendChild(keep);
    conflictBox.appendChild(document.createTextNode(" "));
    conflictBox.appendChild(take);
  }

  function save(leaving) {
    if (stopped || !dirty || (inFlight && !leaving)) { return inFlight || Promise.resolve(); }
    var sentRevision = parseInt(revisionField.value, 10) || 0;
    var content = collect();
    dirty = false;
    say("Saving…");
    var request = window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!leaving,
      headers: {
        "Content-Type": "application/json",
        "X-Cadre-Launch": launchToken(),
        "X-CSRF-Token": meta("csrf-token")
      },
      body: JSON.stringify({ draft_revision: sentRevision, content: content })
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var read = type.indexOf("application/json") === 0 ? response.json() : Promise.resolve({});
      return read.then(function (answer) {
        if (response.ok) {
          revisionField.value = String(answer.draft_revision);
          var local = stored();
          if (local && same(local.content, content)) { store(null); }
          else if (local) { store({ base: answer.draft_revision, content: local.content }); }
          say("Draft saved at " + new Date(answer.saved_at).toLocaleTimeString() + ".");
        } else if (response.status === 409) {
          showConflict(answer);
        } else if (response.status === 401 || response.status === 403) {
          stopped = true;
          say("Your Cadre session has ended. Your draft is kept in this browser: open the activity again " +
              "from your course and it will be offered back to you.");
        } else {
          dirty = true;
          say(answer.error || "Cadre could not save the draft just now; it will try again.");
        }
      });
    }).catch(function () {
      dirty = true;
      say("No connection: your draft is kept in this browser and will be saved when Cadre is reachable.");
    }).then(function () { inFlight = null; });
    inFlight = request;
    return request;
  }

  function changed() {
    if (submitting) { return; }
    dirty = true;
    store({ base: parseInt(revisionField.value, 10) || 0, content: collect() });
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    if (inFlight) {  // wait for the autosave, so the form posts the revision it produced
      event.preventDefault();
      var submitter = event.submitter;
      inFlight.then(function () { submitting = true; store(null); form.requestSubmit(submitter); });
      return;
    }
    submitting = true;
    stopped = true;
    store(null);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && !submitting) { save(true); }
  });
  window.addEventListener("pagehide", function () { if (!submitting) { save(true); } });
  window.setInterval(function () { save(false); }, INTERVAL);

  // A copy this browser kept and the server never got (a closed tab, a lost connection, an expired launch).
  var local = stored();
  if (local && local.content && !same(local.content, collect())) {
    if (local.base === (parseInt(revisionField.value, 10) || 0)) {
      fill(local.content);
      dirty = true;
      say("Restored the changes this browser kept since your last visit; saving them now.");
      save(false);
    } else {
      showConflict({ error: "This browser kept changes made on an older copy of this draft, and the draft " +
                     "was saved elsewhere since. Keep the browser's copy, or take the saved one.",
                     draft_revision: parseInt(revisionField.value, 10) || 0, content: collect() });
      fill(local.content);
    }
  }
}());
