/* The service worker (served at /sw.js, scope: the whole site). It owns two caches:

   - "ec-day-<user>-<day>": the day's pages of one signed-in worker — 今日待访, the visit form of
     each elder listed, the special-situation report form — so that they open without a
     connection. Filled from the network answers of those pages (the page's <body data-user
     data-day> says whose and which day) and by static/eldercare/outbox.js. Served first, so
     that a visit costs no page download once the list is loaded; 刷新名单 on the list fetches
     them again. Only today's cache of the last signed-in user exists: a page of another user or
     another day deletes the others, and so does a login or a logout (a full-page post to
     /login/ or /logout/).
   - "ec-static": the site's own style sheets and scripts (no personal data).

   Every other request goes to the network untouched. Forms are not sent from here: the
   outbox (outbox.js) sends them from the page, which can ask for the password. */
"use strict";

var DAY_PREFIX = "ec-day-";
var STATIC_CACHE = "ec-static";
// The pages of the day: 今日待访, one elder's visit form, the report form.
var DAY_PAGES = [/^\/visits\/today\/$/, /^\/visits\/elder\/\d+\/record\/$/, /^\/relief\/report\/$/];

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function isDayPage(url) {
  return url.origin === self.location.origin &&
    DAY_PAGES.some(function (pattern) { return pattern.test(url.pathname); });
}

// Beijing's date, as the server's pages write it (data-day): the day's list is Beijing's day.
function beijingDay() {
  return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
}

function dayCaches() {
  return caches.keys().then(function (names) {
    return names.filter(function (name) { return name.indexOf(DAY_PREFIX) === 0; });
  });
}

function dropDayCaches(keep) {
  return dayCaches().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== keep; })
      .map(function (name) { return caches.delete(name); }));
  });
}

// Today's cache, if there is one (there is at most one user's).
function todaysCache() {
  var suffix = "-" + beijingDay();
  return dayCaches().then(function (names) {
    var name = names.filter(function (n) { return n.slice(-suffix.length) === suffix; })[0];
    return name ? caches.open(name) : null;
  });
}

// Keep a page answered by the network in the day cache of the user it belongs to.
function keepDayPage(request, response) {
  return response.clone().text().then(function (html) {
    if (html.indexOf('class="messages"') >= 0) return;  // a one-time message must not come back all day
    var user = /<body[^>]*\sdata-user="(\d+)"/.exec(html);
    var day = /<body[^>]*\sdata-day="([\d-]+)"/.exec(html);
    if (!user || !day || day[1] !== beijingDay()) return;
    var name = DAY_PREFIX + user[1] + "-" + day[1];
    return dropDayCaches(name).then(function () {
      return caches.open(name);
    }).then(function (cache) { return cache.put(request.url, response); });
  });
}

function offlinePage() {
  var html = "<!DOCTYPE html><html lang=\"zh-hans\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>没有网络</title></head>" +
    "<body><h1>没有网络</h1><p>这个页面没有存在手机上。联网后再打开。</p>" +
    "<p><a href=\"/visits/today/\">回到今日待访</a></p></body></html>";
  return new Response(html, {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}});
}

function dayPage(request) {
  return todaysCache().then(function (cache) {
    return cache && cache.match(request.url);
  }).then(function (cached) {
    if (cached) return cached;
    return fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        return keepDayPage(request, response.clone()).then(function () { return response; }, function () { return response; });
      }
      return response;
    }, function () { return offlinePage(); });
  });
}

function staticFile(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (cached) {
      return cached || fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && request.method === "POST" &&
      (url.pathname === "/login/" || url.pathname === "/logout/")) {
    // A login or logout page: whoever comes next must not see the day cached for the last one.
    event.respondWith(dropDayCaches(null).then(function () { return fetch(request); }));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && isDayPage(url)) {
    event.respondWith(dayPage(request));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(staticFile(request));
  } else if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () { return offlinePage(); }));
  }
});
