// Cookie check for pylti1p3's enable_check_cookies(): if this page can set a cookie, continue the login in
// place; otherwise offer to open it in a new tab, where the browser keeps first-party cookies.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("lti1p3-check").textContent);

  function continueUrl() {
    var url = new URL(window.location.href);
    Object.keys(config.params).forEach(function (key) {
      if (!url.searchParams.has(key)) { url.searchParams.set(key, config.params[key]); }
    });
    return url.toString();
  }

  var cookie = "lti1p3_test_cookie=1; path=/; SameSite=None; Secure; Partitioned";
  document.cookie = cookie;
  if (document.cookie.indexOf("lti1p3_test_cookie") !== -1) {
    document.cookie = "lti1p3_test_cookie=1; path=/; expires=Thu, 01 Jan 1970 00:00:01 GMT; SameSite=None; Secure; Partitioned";
    document.getElementById("lti1p3-loading-msg").hidden = false;
    window.location.replace(continueUrl());
  } else {
    var link = document.getElementById("lti1p3-new-tab-link");
    link.href = continueUrl();
    document.getElementById("lti1p3-warning-msg").hidden = false;
  }
})();
