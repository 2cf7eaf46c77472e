// Keeps this tab on its own launch without putting the launch token in any URL (lti_tool/lti/session.py).
//
// After a launch Cadre redirects to /home#lt=TOKEN: the fragment never reaches a server. This script keeps
// the token in this tab's sessionStorage and, when a page comes back without this tab's launch (the
// browser refused Cadre's cookie, or another tab launched since and the cookie now names that launch),
// fetches the same address again with the token in the X-Cadre-Launch header and replaces the document.
// Forms carry the token in their POST body already. Runs in <head>, before the page is shown.
(function () {
  "use strict";
  var KEY = "cadre-launch";
  var PENDING = "cadre-launch-pending";  // set by the Platform Storage launch page just before it posts
  var TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
  var storage = null;
  try { storage = window.sessionStorage; } catch (e) { storage = null; }  // refused with cookies, at times

  function read(key) { try { return storage ? storage.getItem(key) : null; } catch (e) { return null; } }
  function write(key, value) {
    try {
      if (!storage) { return; }
      if (value === null) { storage.removeItem(key); } else { storage.setItem(key, value); }
    } catch (e) { /* storage full or refused: the cookie alone carries the session */ }
  }
  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute("content") : null;
  }

  var pageLaunch = meta("cadre-launch");         // the launch this page was made under, if any
  var needsLaunch = meta("cadre-no-launch") !== null;
  var refetchable = meta("cadre-get") !== null;  // only GET pages are asked again

  var handed = /(?:^#|&)lt=([A-Za-z0-9_-]{16,128})(?:&|$)/.exec(window.location.hash);
  if (handed) {
    window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
    // Only the launch this tab just made: the page was made under it (the cookie came back), or this tab
    // posted a launch a moment ago. A fragment in a link someone sent is ignored.
    if (handed[1] === pageLaunch || read(PENDING)) { write(KEY, handed[1]); }
    write(PENDING, null);
  } else if (pageLaunch && !read(KEY)) {
    write(KEY, pageLaunch);  // a tab opened from a Cadre page: it stays on the launch it opened with
  }

  var tabLaunch = read(KEY);
  if (!tabLaunch || !TOKEN.test(tabLaunch) || !refetchable) { return; }
  if (!needsLaunch && (!pageLaunch || pageLaunch === tabLaunch)) { return; }

  function download(response) {
    var disposition = response.headers.get("Content-Disposition") || "";
    var name = /filename="?([^";]+)"?/.exec(disposition);
    return response.blob().then(function (blob) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = name ? name[1] : "";
      document.documentElement.appendChild(link);
      link.click();
      window.setTimeout(function () { window.history.back(); }, 100);
    });
  }

  document.documentElement.classList.add("cadre-loading");
  window.fetch(window.location.href, {
    headers: { "X-Cadre-Launch": tabLaunch },
    credentials: "same-origin",
    cache: "no-store"
  }).then(function (response) {
    if (response.status === 401 || response.status === 403) { write(KEY, null); }  // expired or refused
    if ((response.headers.get("Content-Type") || "").indexOf("text/html") !== 0) { return download(response); }
    return response.text().then(function (html) {
      if (response.redirected) { window.history.replaceState(null, "", response.url); }
      document.open();
      document.write(html);
      document.close();
    });
  }).catch(function () {
    document.documentElement.classList.remove("cadre-loading");
  });
}());
