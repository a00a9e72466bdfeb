/* The visit form, progressively enhanced: submit with fetch so that a dropped connection
   leaves the filled form on screen (with a retry), and a double tap sends one request.
   Nothing is written to localStorage/sessionStorage: the form's data stays in the page only.
   Without JavaScript the form posts normally; the server's one-time key still stores one visit. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-fetch-submit]");
  if (!form || !window.fetch || !window.FormData) return;
  var buttons = form.querySelectorAll(".submit-visit");
  var retry = form.querySelector(".retry");
  var netError = document.getElementById("net-error");
  var idleLabels = Array.prototype.map.call(buttons, function (b) { return b.textContent; });
  var scriptSrc = document.currentScript && document.currentScript.src;
  var busy = false;

  function setBusy(on) {
    busy = on;
    Array.prototype.forEach.call(buttons, function (button, i) {
      button.disabled = on;
      button.textContent = on ? button.getAttribute("data-busy-label") : idleLabels[i];
    });
  }

  function send() {
    if (busy) return;  // a second tap while the first is in flight does nothing
    setBusy(true);
    netError.hidden = true;
    retry.hidden = true;
    fetch(form.action || window.location.href, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"X-Requested-With": "fetch"}
    }).then(function (response) {
      return response.text().then(function (html) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        // Show the answer we already have (saved: the list with its message; not saved: the
        // form with the error messages) rather than asking the weak network for it again.
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!doc.body || !doc.querySelector("main")) throw new Error("unexpected answer");
        document.title = doc.title;
        document.body.replaceWith(document.adoptNode(doc.body));
        if (response.redirected) {
          window.history.replaceState(null, "", response.url);
          window.scrollTo(0, 0);
        } else {
          var script = document.createElement("script");
          script.src = scriptSrc;  // enhance the re-rendered form again
          document.body.appendChild(script);
        }
      });
    }).catch(function () {
      setBusy(false);
      netError.hidden = false;
      retry.hidden = false;
      netError.scrollIntoView({block: "center"});
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });
  retry.addEventListener("click", send);
})();
