/* The phone's outbox and the day's list offline. This file owns:
   - the IndexedDB database "eldercare": store "outbox" (visits and special-situation reports
     filled in but not yet stored by the server, each with its one-time key, so that sending
     it twice stores it once) and store "meta" (whose they are, the elders recorded today,
     the message to show after a save);
   - sending: the outbox's forms (form[data-outbox]) go into the outbox first and are sent from
     there — at once, when the connection comes back, again after 5 s, 10 s … (at most a minute
     apart) while something waits, and on 现在发送. The server's answer decides: stored → out of the outbox; refused → back to the
     worker with the reason (被退回); login needed → the password is asked (session.js), then
     sent; no answer or a server error → stays 待发送 and is tried again;
   - the panel (#outbox) that shows "N 条待发送" and the state of each item;
   - the day cache: registers the service worker (/sw.js) and, on 今日待访, stores the visit
     forms of the listed elders and the report form so that they open without a connection;
   - clearing: a different user on this phone → everything of the last one is deleted; logout
     deletes everything (asking first when something is unsent).
   What is kept, for how long and why: docs/access.md ("The phone's storage"). */
(function () {
  "use strict";
  var body = document.body;
  var user = body.getAttribute("data-user");
  if (!user || !window.indexedDB || !window.fetch) return;
  var day = body.getAttribute("data-day");
  var STATES = {pending: "待发送", sending: "发送中", saved: "已保存", refused: "被退回", login: "需要重新登录",
                todo: "已保存"};
  var sending = {};
  var dbPromise = null;

  // --- IndexedDB ------------------------------------------------------------------------
  function db() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var request = indexedDB.open("eldercare", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("outbox", {keyPath: "id", autoIncrement: true});
        request.result.createObjectStore("meta", {keyPath: "k"});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return dbPromise;
  }

  function tx(store, mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var t = database.transaction(store, mode);
        var result = work(t.objectStore(store));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }

  function allItems() { return tx("outbox", "readonly", function (s) { return s.getAll(); }); }
  function putItem(item) { return tx("outbox", "readwrite", function (s) { return s.put(item); }); }
  function deleteItem(id) { return tx("outbox", "readwrite", function (s) { return s.delete(id); }); }
  function getMeta(k) {
    return tx("meta", "readonly", function (s) { return s.get(k); }).then(function (row) { return row && row.v; });
  }
  function setMeta(k, v) { return tx("meta", "readwrite", function (s) { return s.put({k: k, v: v}); }); }

  function clearAll() {
    var drops = [tx("outbox", "readwrite", function (s) { return s.clear(); }),
                 tx("meta", "readwrite", function (s) { return s.clear(); })];
    if (window.caches) {
      drops.push(caches.keys().then(function (names) {
        return Promise.all(names.filter(function (n) { return n.indexOf("ec-day-") === 0; })
          .map(function (n) { return caches.delete(n); }));
      }));
    }
    return Promise.all(drops);
  }

  // --- helpers ----------------------------------------------------------------------------
  function beijingNow() { return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 16); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrfCookie() {
    var match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    return match ? match[1] : null;
  }

  function token() {
    var cookie = csrfCookie();
    return cookie ? Promise.resolve(cookie) : window.ecSession.status().then(function (s) { return s.csrf; });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  // Still to be sent (not stored yet, not refused, not stored with something left to do).
  function isWaiting(item) {
    return item.state === "pending" || item.state === "sending" || item.state === "login";
  }

  function elderOf(item) {
    var match = /\/visits\/elder\/(\d+)\/record\/$/.exec(item.url);
    return match ? match[1] : null;
  }

  // --- sending ----------------------------------------------------------------------------
  // One item to the server; resolves to the item with its new state (saved items are deleted).
  function send(item) {
    if (sending[item.id]) return Promise.resolve(item);
    sending[item.id] = true;
    item.state = "sending";
    item.reason = "";
    return putItem(item).then(render).then(token).then(function (csrf) {
      var form = new FormData();
      item.fields.forEach(function (pair) {
        if (pair[0] === "csrfmiddlewaretoken") return;  // the page's token may be stale: the header's is fresh
        if (pair[1] instanceof Blob) form.append(pair[0], pair[1], pair[2] || "photo.jpg");
        else form.append(pair[0], pair[1]);
      });
      return fetch(item.url, {method: "POST", body: form, credentials: "same-origin", redirect: "manual",
                              headers: {"X-Outbox": "1", "X-CSRFToken": csrf}});
    }).then(function (response) {
      if (response.type === "opaqueredirect") return "login";  // the login page: the session expired
      if (response.status === 403 && response.headers.get("X-CSRF-Failure")) {
        // The token or the cookies are gone: signed in still → a fresh token and again; else log in.
        return window.ecSession.status().then(function (s) {
          if (!s.authenticated) return "login";
          item.csrfRetries = (item.csrfRetries || 0) + 1;
          return item.csrfRetries > 2 ? "pending" : "again";
        });
      }
      if (response.status === 404) {
        item.reason = "找不到这位老人：可能已迁出本村，或已不归您巡访。没有保存。";
        return "refused";
      }
      if (response.status === 422 || response.ok) {
        return response.json().then(function (answer) {
          if (answer.ok) {
            item.answer = answer;
            if (answer.todo) {  // stored, and something is still to do (上报乡镇: the report to write)
              item.reason = answer.todo;
              return "todo";
            }
            return "saved";
          }
          item.reason = answer.reason;
          return "refused";
        });
      }
      return "pending";  // a server error: keep it and try again
    }, function () { return "pending"; }).then(function (state) {
      delete sending[item.id];
      if (state === "again") return send(item);
      item.state = state;
      if (state === "pending") item.tries = (item.tries || 0) + 1;
      if (state === "todo") {  // kept, without its fields, until the worker has done the rest
        item.fields = [];
        return putItem(item).then(function () { return remember(item); }).then(function () { return item; });
      }
      if (state !== "saved") return putItem(item).then(function () { return item; });
      return deleteItem(item.id).then(function () { return remember(item); }).then(function () { return item; });
    }).then(function (result) {
      render();
      return result;
    });
  }

  // After a save: the elder is marked 今天已记 on the cached list, and the answer is shown once.
  function remember(item) {
    var elder = elderOf(item);
    return getMeta("done").then(function (done) {
      done = done && done.day === day ? done : {day: day, elders: []};
      if (elder && done.elders.indexOf(elder) < 0) done.elders.push(elder);
      return setMeta("done", done);
    }).then(function () { return setMeta("flash", item.answer.message); });
  }

  var sendingAll = null;
  function sendAll() {
    if (sendingAll) return sendingAll;
    sendingAll = allItems().then(function (items) {
      var waiting = items.filter(isWaiting);
      return waiting.reduce(function (chain, item) {
        return chain.then(function (needLogin) {
          if (needLogin) return true;  // no point sending the others before the password is in
          return send(item).then(function (result) { return result.state === "login"; });
        });
      }, Promise.resolve(false));
    }).then(function (needLogin) {
      sendingAll = null;
      if (needLogin && document.visibilityState === "visible") {
        return window.ecSession.relogin().then(function (signedIn) { if (signedIn) return sendAll(); });
      }
      return retryLater();
    }, function () { sendingAll = null; });
    return sendingAll;
  }

  // Items left 待发送 (no answer, a server error) are tried again: after 5 s, 10 s, 20 s … at
  // most every minute, while the phone is online; and at once when the connection comes back.
  var retryTimer = null;
  function retryLater() {
    return allItems().then(function (items) {
      var tries = items.filter(function (i) { return i.state === "pending"; })
        .map(function (i) { return i.tries || 0; });
      clearTimeout(retryTimer);
      if (!tries.length || !navigator.onLine) return;
      var delay = Math.min(60000, 5000 * Math.pow(2, Math.max(0, Math.min.apply(null, tries) - 1)));
      retryTimer = setTimeout(sendAll, delay);
    });
  }

  // --- the panel --------------------------------------------------------------------------
  var panel = null;
  function render() {
    return allItems().then(function (items) {
      var onList = !!document.querySelector("[data-day-list]");
      if (!panel) {
        panel = el("section", "card outbox");
        panel.id = "outbox";
        panel.setAttribute("aria-live", "polite");
        var main = document.querySelector("main");
        var heading = main.querySelector("h1");
        main.insertBefore(panel, heading ? heading.nextSibling : main.firstChild);
      }
      panel.hidden = !items.length && !onList;
      panel.textContent = "";
      var waiting = items.filter(isWaiting).length;
      var refused = items.filter(function (i) { return i.state === "refused"; }).length;
      var todo = items.length - waiting - refused;
      var head = el("p", "outbox-count", (waiting ? waiting + " 条待发送" : "没有待发送的记录") +
                    (refused ? " · " + refused + " 条被退回，请查看" : "") +
                    (todo ? " · " + todo + " 条还需上报" : ""));
      panel.appendChild(head);
      if (items.length) {
        var list = el("ul", "list outbox-items");
        items.forEach(function (item) {
          var li = el("li", "outbox-item state-" + item.state);
          li.setAttribute("data-state", item.state);
          li.appendChild(el("span", "outbox-title", item.title));
          li.appendChild(el("span", "outbox-state", STATES[item.state] + (item.reason ? "：" + item.reason : "")));
          if (item.state === "todo") {
            var go = el("a", "button outbox-todo", "去写上报");
            go.href = item.answer.url;
            go.addEventListener("click", function (event) {
              event.preventDefault();
              deleteItem(item.id).then(function () { location.assign(item.answer.url); });
            });
            li.appendChild(go);
          }
          if (item.state === "refused" || item.state === "todo") {
            var drop = el("button", "link outbox-delete", "知道了，删除");
            drop.type = "button";
            drop.addEventListener("click", function () { deleteItem(item.id).then(render).then(markRows); });
            li.appendChild(drop);
          }
          list.appendChild(li);
        });
        panel.appendChild(list);
        if (waiting) {
          var now = el("button", "block outbox-send", items.some(function (i) { return i.state === "login"; })
            ? "输入密码后发送" : "现在发送");
          now.type = "button";
          now.addEventListener("click", sendAll);
          panel.appendChild(now);
        }
      }
      if (onList) {
        var note = el("p", "muted small outbox-day", "今天的名单已存到手机，没有网络也能打开、记巡访。");
        var refresh = el("button", "link outbox-refresh", "刷新名单");
        refresh.type = "button";
        refresh.addEventListener("click", refreshList);
        note.appendChild(refresh);
        panel.appendChild(note);
      }
      return items;
    }).then(markRows);
  }

  // The list on the phone was written this morning: an elder with a visit waiting in the outbox
  // is flagged 已记，待发送; one whose visit is stored moves to 今天已记 at the bottom, as the
  // server's list would drop them.
  function markRows(items) {
    if (!document.querySelector("[data-day-list]")) return;
    return getMeta("done").then(function (done) {
      var recorded = done && done.day === day ? done.elders : [];
      var waiting = (items || []).filter(isWaiting).map(elderOf).filter(Boolean);
      var refused = (items || []).filter(function (i) { return i.state === "refused"; }).map(elderOf);
      Array.prototype.forEach.call(document.querySelectorAll(".due-row[data-elder]"), function (row) {
        var pk = row.getAttribute("data-elder");
        var label = waiting.indexOf(pk) >= 0 ? "已记，待发送" : recorded.indexOf(pk) >= 0 ? "今天已记"
          : refused.indexOf(pk) >= 0 ? "被退回" : "";
        var flag = row.querySelector(".outbox-flag");
        if (!label) { if (flag) flag.remove(); return; }
        if (!flag) {
          flag = el("span", "flag outbox-flag");
          row.querySelector(".flags").appendChild(flag);
        }
        flag.textContent = label;
        if (label === "今天已记") moveToDone(row);
      });
      Array.prototype.forEach.call(document.querySelectorAll("section.bucket"), function (section) {
        var rows = section.querySelectorAll(".due-row").length;
        var count = section.querySelector("h2 .count");
        if (count) count.textContent = rows;
        if (!rows) section.remove();
      });
    });
  }

  function moveToDone(row) {
    var section = document.querySelector("section.outbox-done");
    if (!section) {
      section = el("section", "bucket-done outbox-done");
      section.appendChild(el("h2", "", "今天已记"));
      section.appendChild(el("ul", "list due-list"));
      var last = document.querySelectorAll("section.bucket");
      var anchor = last.length ? last[last.length - 1] : document.querySelector("[data-day-list]");
      anchor.parentNode.insertBefore(section, anchor.nextSibling);
    }
    section.querySelector("ul").appendChild(row);
  }

  function showFlash() {
    return getMeta("flash").then(function (text) {
      if (!text) return;
      var main = document.querySelector("main");
      var messages = el("ul", "messages");
      messages.appendChild(el("li", "success", text));
      main.insertBefore(messages, main.firstChild);
      return setMeta("flash", "");
    });
  }

  // --- the day's pages on the phone -------------------------------------------------------
  function dayPageUrls() {
    var links = document.querySelectorAll("main a.record, .mainnav a[href$='/relief/report/']");
    var urls = Array.prototype.map.call(links, function (a) { return a.href.split("#")[0]; });
    return urls.filter(function (u, i) { return urls.indexOf(u) === i; });
  }

  function staticUrls(html) {
    var found = [], pattern = /(?:href|src)="(\/static\/[^"]+)"/g, match;
    while ((match = pattern.exec(html))) found.push(new URL(match[1].replace(/&amp;/g, "&"), location.href).href);
    return found;
  }

  // Store the visit forms of the listed elders and the report form (one at a time: the weak
  // network is the worker's), and the style sheets and scripts they need.
  function storeDay(force) {
    if (!window.caches || !navigator.onLine) return Promise.resolve();
    var cacheName = "ec-day-" + user + "-" + day;
    var pages = [location.href.split("#")[0]].concat(dayPageUrls());
    body.setAttribute("data-day-stored", "working");
    return caches.open(cacheName).then(function (cache) {
      var assets = staticUrls(document.documentElement.outerHTML);
      return pages.reduce(function (chain, url) {
        return chain.then(function () {
          return (force ? Promise.resolve(null) : cache.match(url)).then(function (hit) {
            if (hit) return;
            return fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
              if (!response.ok || response.redirected) return;
              return response.clone().text().then(function (html) {
                if (html.indexOf('data-user="' + user + '"') < 0 || html.indexOf('class="messages"') >= 0) return;
                staticUrls(html).forEach(function (a) { if (assets.indexOf(a) < 0) assets.push(a); });
                return cache.put(url, response);
              });
            });
          });
        });
      }, Promise.resolve()).then(function () {
        return caches.open("ec-static").then(function (statics) {
          return Promise.all(assets.map(function (a) {
            return statics.match(a).then(function (hit) { return hit || statics.add(a); });
          }));
        });
      });
    }).then(function () {
      body.setAttribute("data-day-stored", "done");
    }, function () { body.setAttribute("data-day-stored", "failed"); });
  }

  function refreshList() {
    if (!navigator.onLine) return;
    storeDay(true).then(function () { location.reload(); });
  }

  // --- the outbox's forms -----------------------------------------------------------------
  function enhance(form) {
    var key = form.querySelector("input[name=submission_key]");
    var when = form.querySelector("input[name=visited_at]");
    var fresh = !form.querySelector(".errorlist, .errors li");
    // A form opened from the phone's cache was written this morning: a new key, and now.
    if (key) key.value = newKey();
    if (when && fresh) when.value = beijingNow();
    var buttons = form.querySelectorAll("button[type=submit]");
    var note = el("div", "errors outbox-note");
    note.setAttribute("role", "alert");
    note.hidden = true;
    form.insertBefore(note, form.firstChild);
    var busy = false;
    var itemId = null;

    function setBusy(on) {
      busy = on;
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = on; });
    }

    function say(text, actions) {
      note.textContent = text;
      (actions || []).forEach(function (a) { note.appendChild(a); });
      note.hidden = false;
      note.scrollIntoView({block: "center"});
    }

    function itemFrom() {
      var fields = [];
      new FormData(form).forEach(function (value, name) {
        if (value instanceof File) {
          if (value.size) fields.push([name, value, value.name]);
        } else {
          fields.push([name, value]);
        }
      });
      var title = form.getAttribute("data-outbox-title");
      var elder = form.querySelector("select[name=elder]");
      if (!title && elder && elder.selectedIndex > 0) title = elder.options[elder.selectedIndex].text.split("（")[0];
      var kind = form.getAttribute("data-outbox") === "case" ? "上报 " : "巡访 ";
      var item = {url: form.action || location.href, kind: form.getAttribute("data-outbox"),
                  title: kind + (title || "") + " · " + beijingNow().slice(11), fields: fields,
                  state: "pending", at: Date.now(), tries: 0};
      if (itemId !== null) item.id = itemId;
      return item;
    }

    function outcome(item) {
      if (item.state === "saved") {
        location.assign(item.answer.url);
        return;
      }
      if (item.state === "todo") {  // the worker is here: straight on to what is left (the report)
        deleteItem(item.id).then(function () { location.assign(item.answer.url); });
        return;
      }
      setBusy(false);
      if (item.state === "refused") {
        // The worker is here, with the form: the reason goes on the form, not into the outbox.
        deleteItem(item.id).then(render);
        itemId = null;
        say("没有保存：" + item.reason);
        return;
      }
      if (item.state === "login") {
        return window.ecSession.relogin().then(function (signedIn) {
          if (signedIn) { setBusy(true); return send(item).then(outcome); }
          say("登录已过期，这条记录已存入手机的待发送，登录后会自动发送。", [backLink()]);
        });
      }
      var retry = el("button", "block retry", "重新提交");
      retry.type = "button";
      retry.addEventListener("click", function () {
        setBusy(true);
        allItems().then(function (items) {
          var stored = items.filter(function (i) { return i.id === item.id; })[0];
          return stored ? send(stored).then(outcome) : outcome({state: "saved", answer: {url: location.href}});
        });
      });
      say("网络不通，还没有发送。这条记录已存入手机的待发送，联网后会自动发送，不用再填。", [retry, backLink()]);
    }

    function backLink() {
      var back = el("a", "button block", "回今日待访");
      back.href = "/visits/today/";
      return back;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;  // a second tap while the first is on its way does nothing
      setBusy(true);
      note.hidden = true;
      var item = itemFrom();
      putItem(item).then(function (id) {
        item.id = itemId = id;
        return send(item);
      }).then(outcome, function () {
        setBusy(false);
        say("手机存储出错，没有存下。请不要离开本页，稍后再点提交。");
      });
    });
  }

  // --- logout -----------------------------------------------------------------------------
  function guardLogout(form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-cleared") === "1") return;
      event.preventDefault();
      allItems().then(function (items) {
        var unsent = items.filter(function (i) { return i.state !== "refused"; }).length;
        if (unsent && !window.confirm("还有 " + unsent + " 条记录没有发送。退出后手机上的这些记录会被删除。确定退出吗？")) return;
        return clearAll().then(function () {
          form.setAttribute("data-cleared", "1");
          form.submit();
        });
      });
    });
  }

  // --- start ------------------------------------------------------------------------------
  getMeta("owner").then(function (last) {
    if (last && last !== user) return clearAll();  // another worker's list and outbox: gone
  }).then(function () {
    return setMeta("owner", user);
  }).then(function () {
    if (navigator.serviceWorker) navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(function () {});
    Array.prototype.forEach.call(document.querySelectorAll("form[data-outbox]"), enhance);
    Array.prototype.forEach.call(document.querySelectorAll("form.logout-form"), guardLogout);
    return showFlash();
  }).then(render).then(function () {
    // Stored only for a service worker to serve: without one (blocked, an old browser) it would
    // only cost the worker's data.
    if (document.querySelector("[data-day-list]") && navigator.serviceWorker) {
      navigator.serviceWorker.ready.then(function () { storeDay(false); });
    }
    if (navigator.onLine) sendAll();
  });
  window.addEventListener("online", sendAll);
})();
