{% load static %}/* 网格通 service worker {{ version }}: keeps the phone pages' shell so they open without a
   connection. Pages: network first (a slow network falls back to the copy after 4 s); static files:
   cache first, the site menu's nav.css/nav.js among them so it stays folded offline too. Writes (POST)
   are never touched here: the page keeps them in IndexedDB. */
"use strict";
var CACHE = "gridphone-{{ version }}";
var SCOPE = "{{ scope|escapejs }}";
var SHELL = [{% for url in shell %}"{{ url|escapejs }}", {% endfor %}"{% static 'grid/phone.js' %}", "{% static 'grid/phone.css' %}", "{% static 'web/app.css' %}",
  "{% static 'web/nav.css' %}", "{% static 'web/nav.js' %}", "{% static 'web/elder.js' %}", "{% static 'vendor/htmx.min.js' %}"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(SHELL.map(function (url) {
      return fetch(url, { credentials: "same-origin", redirect: "manual" }).then(function (res) {
        if (res.ok && res.type === "basic") { return cache.put(url, res); }
      }).catch(function () { return null; });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("gridphone-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function offline() {
  return new Response("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<p style='font:18px sans-serif;padding:1rem'>现在没有网络,此页面尚未保存在手机上。<a href='" + SCOPE + "'>返回今日任务</a></p>",
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function networkFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return new Promise(function (resolve) {
      var settled = false;
      function settle(response) { if (!settled && response) { settled = true; resolve(response); } }
      function fallback() {
        return cache.match(request).then(function (hit) {
          return hit || cache.match(request, { ignoreSearch: true });
        }).then(function (hit) { return hit || cache.match(SCOPE); });
      }
      var timer = setTimeout(function () { fallback().then(settle); }, 4000);
      fetch(request).then(function (response) {
        clearTimeout(timer);
        if (response.ok && !response.redirected && response.type === "basic") {
          cache.put(request, response.clone());
        }
        settle(response);
      }).catch(function () {
        clearTimeout(timer);
        fallback().then(function (hit) { settle(hit || offline()); });
      });
    });
  });
}

function cacheFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname === SCOPE + "sw.js") { return; }
  if (request.mode === "navigate" && url.pathname.indexOf(SCOPE) === 0) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.indexOf("{% get_static_prefix %}") === 0) {
    event.respondWith(cacheFirst(request));
  }
});
