/* The visit form, progressively enhanced: submit with fetch so that a dropped connection
   leaves the filled form on screen (with a retry), and a double tap sends one request.
   Nothing is written to localStorage/sessionStorage: the form's data stays in the page only.
   Without JavaScript the form posts normally; the server's one-time key still stores one visit. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-fetch-submit]");
  if (!form || !window.fetch || !window.FormData) return;
  var submit = form.querySelector(".submit-visit");
  var retry = form.querySelector(".retry");
  var netError = document.getElementById("net-error");
  var idleLabel = submit.textContent;
  var scriptSrc = document.currentScript && document.currentScript.src;
  var busy = false;

  function setBusy(on) {
    busy = on;
    submit.disabled = on;
    submit.textContent = on ? submit.getAttribute("data-busy-label") : idleLabel;
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
      if (response.redirected) {
        window.location.assign(response.url);
        return;
      }
      return response.text().then(function (html) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        // The server answered with the form and its error messages: show them.
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        if (!fresh) throw new Error("unexpected answer");
        document.querySelector("main").replaceWith(fresh);
        var script = document.createElement("script");
        script.src = scriptSrc;
        document.body.appendChild(script);
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
