/* An expired session never costs what was typed. This file owns:
   - window.ecSession.status(): asks /session/ whether this browser is signed in, and for a
     CSRF token (the server sets the cookie again if it is gone);
   - window.ecSession.relogin(): the password dialog. It logs the same worker in again in
     place (a fetch to /login/), so the page and its form stay as they are; one dialog at a
     time, whoever asks;
   - the guard of every form that posts on a signed-in page (the outbox's forms excepted, which
     send themselves: outbox.js). A form on a page younger than the session's time left when
     the page was made (data-idle, less two minutes), with the CSRF cookie the page was served
     with, goes as the browser sends it — no extra round trip. Otherwise (the page is older, the cookies are gone or changed, or the
     phone is offline) the session is checked first; if it has expired, the password is asked
     in place; the form then goes with a fresh CSRF token. With no connection the form is not
     sent and says so, with everything still filled in.
   No inline script: the site's CSP runs files only. */
(function () {
  "use strict";
  var body = document.body;
  var username = body.getAttribute("data-username");
  var owner = body.getAttribute("data-user");
  var SKIP = ["/login/", "/logout/", "/i18n/setlang/"];
  var dialogPromise = null;
  var loadedAt = Date.now();
  var idle = body.getAttribute("data-idle");
  var idleMs = (idle === null || idle === "" ? 1800 : Number(idle)) * 1000;
  var cookieAtLoad = csrfCookie();

  function csrfCookie() {
    var match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    return match ? match[1] : null;
  }

  // Could this page's session or token be gone? data-idle is the seconds the session had left
  // when the page was made (the idle limit or the 12-hour limit, whichever comes first).
  function mayHaveExpired() {
    return Date.now() - loadedAt > idleMs - 120000 || !navigator.onLine ||
      csrfCookie() === null || csrfCookie() !== cookieAtLoad;
  }

  function status() {
    return fetch("/session/", {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
  }

  // Signed in again as the page's own worker: true; a wrong password: false.
  function logIn(password) {
    return status().then(function (state) {
      if (state.authenticated) return state;
      var form = new URLSearchParams();
      form.append("username", username);
      form.append("password", password);
      form.append("csrfmiddlewaretoken", state.csrf);
      // The login view answers a redirect when the password is right, the form again when not.
      return fetch("/login/", {method: "POST", body: form, credentials: "same-origin", redirect: "manual"})
        .then(function () { return status(); });
    }).then(function (state) {
      return state.authenticated && String(state.user) === owner;
    });
  }

  function element(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function relogin() {
    if (dialogPromise) return dialogPromise;
    if (!username || !owner) return Promise.resolve(false);
    dialogPromise = new Promise(function (resolve) {
      var dialog = element("dialog", {"class": "relogin", "aria-labelledby": "relogin-title"});
      var form = element("form", {method: "dialog"});
      form.appendChild(element("h2", {id: "relogin-title"}, "登录已过期，请输入密码"));
      form.appendChild(element("p", {"class": "muted small"},
        "填好的内容还在。输入 " + username + " 的密码后，会接着提交，不用重填。"));
      form.appendChild(element("label", {"for": "relogin-password"}, "密码"));
      var password = element("input", {id: "relogin-password", type: "password", autocomplete: "current-password",
                                       required: "required"});
      form.appendChild(password);
      var error = element("p", {"class": "errors", role: "alert", hidden: "hidden"});
      form.appendChild(error);
      var ok = element("button", {type: "submit", "class": "primary block"}, "登录并继续");
      var cancel = element("button", {type: "button", "class": "block"}, "先不登录");
      form.appendChild(ok);
      form.appendChild(cancel);
      dialog.appendChild(form);
      document.body.appendChild(dialog);

      function finish(result) {
        dialog.close();
        dialog.remove();
        dialogPromise = null;
        resolve(result);
      }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        ok.disabled = true;
        error.hidden = true;
        logIn(password.value).then(function (signedIn) {
          if (signedIn) return finish(true);
          ok.disabled = false;
          error.textContent = "密码不对，请再输一次。连续输错 5 次会被锁定 15 分钟。";
          error.hidden = false;
        }, function () {
          ok.disabled = false;
          error.textContent = "网络不通，请稍后再试。";
          error.hidden = false;
        });
      });
      cancel.addEventListener("click", function () { finish(false); });
      dialog.addEventListener("cancel", function (event) { event.preventDefault(); finish(false); });
      dialog.showModal();
      password.focus();
    });
    return dialogPromise;
  }

  // A fresh token from a signed-in session; asks for the password first when it has expired.
  // null: the worker did not log in again.
  function signedInToken() {
    return status().then(function (state) {
      if (state.authenticated) return state.csrf;
      return relogin().then(function (signedIn) {
        return signedIn ? status().then(function (again) { return again.csrf; }) : null;
      });
    });
  }

  function showNetError(form) {
    var note = form.querySelector(".guard-error");
    if (!note) {
      note = element("p", {"class": "errors guard-error", role: "alert"});
      form.insertBefore(note, form.firstChild);
    }
    note.textContent = "网络不通，没有提交。填好的内容还在，联网后再点一次提交。";
    note.scrollIntoView({block: "center"});
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") return;
    if (form.hasAttribute("data-outbox") || form.hasAttribute("data-no-guard") || !owner) return;
    var action = new URL(form.getAttribute("action") || window.location.href, window.location.href);
    if (action.origin !== window.location.origin || SKIP.indexOf(action.pathname) >= 0) return;
    if (form.getAttribute("data-guard") === "passed") return;  // the resend below: let it go
    if (!mayHaveExpired() && form.getAttribute("data-guard") !== "busy") return;
    event.preventDefault();
    event.stopPropagation();  // the form's own handlers run on the resend, once
    if (form.getAttribute("data-guard") === "busy") return;
    form.setAttribute("data-guard", "busy");
    var submitter = event.submitter;
    signedInToken().then(function (token) {
      form.removeAttribute("data-guard");
      if (!token) return;
      var field = form.querySelector("input[name=csrfmiddlewaretoken]");
      if (field) field.value = token;
      var note = form.querySelector(".guard-error");
      if (note) note.remove();
      form.setAttribute("data-guard", "passed");
      if (submitter && submitter.form === form) form.requestSubmit(submitter); else form.requestSubmit();
      form.removeAttribute("data-guard");
    }, function () {
      form.removeAttribute("data-guard");
      showNetError(form);
    });
  }, true);

  window.ecSession = {status: status, relogin: relogin};
})();
