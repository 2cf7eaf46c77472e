// The sign-in link's token is in this page's address: take it out of the address bar and the history at
// once, then post it (the exchange answers with a redirect, so the token never stays in a URL).
(function () {
  "use strict";
  var form = document.getElementById("invitation-sign-in");
  if (!form) { return; }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", form.getAttribute("action"));
  }
  form.submit();
})();
