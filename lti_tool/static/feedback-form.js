// Autosave for the feedback form (lti_tool/templates/feedback/form.html). The form works without it: Save
// draft and Submit post it. With it, what is typed is sent every few seconds, and when the page is hidden
// or closed, to the form's data-autosave-url as JSON with the draft revision it started from. The server
// refuses a save from an older revision (409, another tab or device saved since) and answers its copy,
// which is shown here: nothing is overwritten silently. Every change is also kept in this browser
// (localStorage) until the server has it, so a closed tab, a lost connection or an expired launch loses
// nothing: the copy is offered again on the next visit. A submission is kept too until the server has it.
// The six-month follow-up's rubric form uses it too: its form names its free-text fields in
// data-autosave-texts (the feedback form's are strengths and next_steps).
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
  var texts = (form.getAttribute("data-autosave-texts") || "strengths next_steps").split(" ");
  var TEXT_LABELS = { strengths: "Strengths", next_steps: "Next steps", what_changed: "What changed" };
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
    var content = { criteria: {} };
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
    texts.forEach(function (name) { content[name] = form.elements[name] ? form.elements[name].value : ""; });
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
    texts.forEach(function (name) { if (form.elements[name]) { form.elements[name].value = content[name] || ""; } });
    form.dispatchEvent(new Event("cadre-filled"));  // feedback-total.js explains the total again
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  // What the saved copy has that differs from ``mine`` (the form as it stands, unless given), field by
  // field, in the form's own words.
  function differences(saved, mine) {
    var found = [];
    function add(label, theirs, yours) {
      if ((theirs || "") !== (yours || "")) { found.push([label, theirs || "(empty)", yours || "(empty)"]); }
    }
    mine = mine || collect();
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-criterion]"), function (set) {
      var id = set.getAttribute("data-criterion");
      var title = set.getAttribute("data-title") || id;
      var theirs = (saved.criteria || {})[id] || {}, yours = mine.criteria[id];
      function levelTitle(level) {
        var radio = level ? set.querySelector('input[type="radio"][value="' + level.replace(/"/g, "") + '"]') : null;
        return radio ? (radio.getAttribute("data-title") || level) : "";
      }
      add(title + ": level", levelTitle(theirs.level), levelTitle(yours.level));
      add(title + ": points", theirs.points, yours.points);
      add(title + ": comment", theirs.comment, yours.comment);
    });
    texts.forEach(function (name) { add(TEXT_LABELS[name] || name, saved[name], mine[name]); });
    return found;
  }
  function differencesList(saved) {
    var rows = differences(saved);
    var list = document.createElement("dl");
    list.className = "facts";
    list.setAttribute("data-testid", "server-copy");
    if (!rows.length) {
      var none = document.createElement("p");
      none.textContent = "The saved copy has the same answers as yours.";
      return none;
    }
    rows.forEach(function (row) {
      var term = document.createElement("dt");
      term.textContent = row[0];
      var theirs = document.createElement("dd");
      theirs.textContent = "Saved copy: " + row[1];
      var yours = document.createElement("dd");
      yours.textContent = "Yours: " + row[2];
      list.appendChild(term);
      list.appendChild(theirs);
      list.appendChild(yours);
    });
    return list;
  }

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
    if (answer.content) {
      var heading = document.createElement("p");
      heading.textContent = "What differs between the saved copy and yours (yours is still in the form):";
      conflictBox.appendChild(heading);
      conflictBox.appendChild(differencesList(answer.content));
    }
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
        } else if (response.status === 409 && answer.content && !differences(answer.content, content).length) {
          // Another tab or device saved these very answers (a tab opened meanwhile offered this browser's
          // copy back): nothing to choose between. Go on from its revision; what was typed since is saved next.
          revisionField.value = String(answer.draft_revision);
          if (!dirty) { store(null); }
          say("Draft saved" + (answer.saved_at ? " at " + new Date(answer.saved_at).toLocaleTimeString() : "") + ".");
        } else if (response.status === 409) {
          showConflict(answer);
        } else if (response.status === 401 || response.status === 403) {
          stopped = true;
          keepLocally();
          say("Your Cadre session has expired, so this draft was not saved in Cadre. It is kept in this " +
              "browser: open the activity again from your course in the LMS (invited by e-mail? open the " +
              "link in that e-mail again), and the draft is offered back to you there.");
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

  function keepLocally() { store({ base: parseInt(revisionField.value, 10) || 0, content: collect() }); }
  function changed() {
    if (submitting) { return; }
    dirty = true;
    keepLocally();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    if (inFlight) {  // wait for the autosave, so the form posts the revision it produced
      event.preventDefault();
      var submitter = event.submitter;
      inFlight.then(function () { submitting = true; keepUntilSubmitted(); form.requestSubmit(submitter); });
      return;
    }
    submitting = true;
    stopped = true;
    keepUntilSubmitted();
  });
  // The post may not land (an expired launch, a lost connection): the copy stays in this browser, marked,
  // until a later visit sees that the server's draft moved past it.
  function keepUntilSubmitted() {
    store({ base: parseInt(revisionField.value, 10) || 0, content: collect(), submitted: true });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && !submitting) { save(true); }
  });
  window.addEventListener("pagehide", function () { if (!submitting) { save(true); } });
  window.setInterval(function () { save(false); }, INTERVAL);

  // A copy this browser kept and the server never got (a closed tab, a lost connection, an expired launch).
  var local = stored();
  var current = parseInt(revisionField.value, 10) || 0;
  var answered = document.querySelector("[data-testid=problem-summary], [data-testid=conflict]");
  if (local && (local.submitted && (local.base !== current || answered) ||
                local.content && same(local.content, collect()))) {
    // The server has it (the submission or a save landed), or this page is its answer to the submission,
    // with everything typed in the form again.
    store(null);
    local = null;
  }
  if (local && local.content) {
    if (local.base === current) {
      fill(local.content);
      dirty = true;
      say(local.submitted
        ? "Your last submission did not reach Cadre (your session had expired or the connection was lost). " +
          "Your answers are back in the form, saved as a draft now: submit them again."
        : "Restored the changes this browser kept since your last visit; saving them now.");
      save(false);
    } else {
      showConflict({ error: "This browser kept changes made on an older copy of this draft, and the draft " +
                     "was saved elsewhere since. Keep the browser's copy, or take the saved one.",
                     draft_revision: parseInt(revisionField.value, 10) || 0, content: collect() });
      fill(local.content);
    }
  }
  form.setAttribute("data-autosave", "on");  // for whoever waits for it (the browser tests)
}());
