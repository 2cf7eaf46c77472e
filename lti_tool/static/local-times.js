// Times in the reader's own time zone. LTI launches say nothing about it, so the browser's zone is used:
// every <time datetime="…Z" data-local="datetime|date"> is rewritten with Intl.DateTimeFormat. Without
// JavaScript the server's text stays, which says UTC. The UTC original stays in the element's title.
(function () {
  "use strict";
  var STYLES = {
    datetime: { dateStyle: "medium", timeStyle: "short" },
    date: { dateStyle: "medium" }
  };

  function zoneName(moment) {
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(moment);
      for (var i = 0; i < parts.length; i += 1) {
        if (parts[i].type === "timeZoneName") { return parts[i].value; }
      }
    } catch (e) { /* an old browser: the time alone */ }
    return "";
  }

  function rewrite() {
    document.querySelectorAll("time[datetime][data-local]").forEach(function (element) {
      var style = STYLES[element.getAttribute("data-local")];
      var moment = new Date(element.getAttribute("datetime"));
      if (!style || isNaN(moment.getTime()) || element.hasAttribute("data-local-done")) { return; }
      var text;
      try { text = new Intl.DateTimeFormat(undefined, style).format(moment); } catch (e) { return; }
      if (style.timeStyle) {
        var zone = zoneName(moment);
        if (zone) { text += " " + zone; }
      }
      element.title = element.textContent.trim();
      element.textContent = text;
      element.setAttribute("data-local-done", "");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", rewrite);
  } else {
    rewrite();
  }
}());
