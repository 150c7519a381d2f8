/* 网格通 on the phone: geolocation, camera and voice note, and the outbox.

   Offline protocol: every check-in, quick report and visit gets a client id (a UUID) when the
   worker presses the button. The record goes into IndexedDB first, then is sent; it leaves the
   outbox only when the server answers 2xx (created, or "already have it" for a retry) or refuses
   it for good (4xx with a JSON reason, shown to the worker). No network, a timeout, a 5xx or an
   expired sign-in keep it queued; it is sent again on the `online` event, on every page load
   and on a timer. The server stores each client id once, so resending is always safe. */
(function () {
  "use strict";
  var root = document.getElementById("gp");
  if (!root) { return; }

  if ("serviceWorker" in navigator && root.dataset.sw) {
    navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope }).catch(function () {});
  }

  function $(sel, el) { return (el || document).querySelector(sel); }
  function $$(sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var input = $("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- the outbox in IndexedDB ---------------------------------------------------------------------

  var DB_NAME = "shanzhi-gridphone";
  var STORE = "outbox";
  var dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }

  function store(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var req = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(req ? req.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  var outbox = {
    put: function (rec) { return store("readwrite", function (s) { return s.put(rec); }); },
    remove: function (id) { return store("readwrite", function (s) { return s.delete(id); }); },
    all: function () {
      return store("readonly", function (s) { return s.getAll(); }).then(function (rows) {
        return (rows || []).sort(function (a, b) { return a.created < b.created ? -1 : 1; });
      });
    }
  };

  // --- sending ---------------------------------------------------------------------------------------

  var TIMEOUT_MS = { report: 90000, checkin: 20000, visit: 20000 };

  function send(rec) {
    var body = new FormData();
    rec.fields.forEach(function (f) { body.append(f[0], f[1]); });
    rec.files.forEach(function (f) { body.append(f[0], f[1], f[2]); });
    var headers = { "Accept": "application/json", "X-CSRFToken": csrf() };
    if (rec.kind === "report") { headers["Idempotency-Key"] = rec.id; }
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, TIMEOUT_MS[rec.kind] || 30000) : null;
    return fetch(rec.url, {
      method: "POST", body: body, headers: headers, credentials: "same-origin", redirect: "manual",
      signal: abort ? abort.signal : undefined
    }).then(function (res) {
      clearTimeout(timer);
      if (res.type === "opaqueredirect" || res.status === 401) {
        return { retry: true, error: "登录已过期,请重新登录,之后会自动发送" };
      }
      var type = res.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) {
        return { retry: true, error: "服务器暂时无法接收(" + res.status + "),稍后自动重试" };
      }
      return res.json().then(function (data) {
        if (res.ok) { return { ok: true, data: data }; }
        if (res.status >= 500 || res.status === 429) { return { retry: true, error: data.message || "服务器繁忙" }; }
        return { failed: true, error: data.message || ("提交被拒绝(" + res.status + ")"), data: data };
      });
    }, function () {
      clearTimeout(timer);
      return { retry: true, error: "网络不通,联网后自动发送" };
    });
  }

  var listeners = [];
  var flushing = null;
  var retryTimer = null;
  var failures = 0;

  function flush() {
    if (flushing) { return flushing; }
    flushing = outbox.all().then(function (rows) {
      var queued = rows.filter(function (r) { return r.state === "queued"; });
      var chain = Promise.resolve(true);
      queued.forEach(function (rec) {
        chain = chain.then(function (goOn) {
          if (!goOn) { return false; }
          return send(rec).then(function (result) {
            rec.attempts = (rec.attempts || 0) + 1;
            var next;
            if (result.ok) {
              next = outbox.remove(rec.id);
            } else if (result.failed) {
              rec.state = "failed";
              rec.error = result.error;
              next = outbox.put(rec);
            } else {
              rec.error = result.error;
              next = outbox.put(rec);
            }
            return next.then(function () {
              listeners.forEach(function (fn) { fn(rec, result); });
              return !result.retry;  // the network is down: stop and try again later
            });
          });
        });
      });
      return chain;
    }).then(function (allSent) {
      failures = allSent ? 0 : failures + 1;
      flushing = null;
      return refresh();
    }, function () { flushing = null; });
    return flushing;
  }

  function schedule(count) {
    clearTimeout(retryTimer);
    if (count > 0) {
      var wait = Math.min(300000, 5000 * Math.pow(2, Math.min(failures, 6)));
      retryTimer = setTimeout(flush, wait);
    }
  }

  // --- the badge and the outbox list ----------------------------------------------------------------

  var KIND_LABELS = { checkin: "巡查打卡", report: "随手拍", visit: "入户走访" };

  function refresh() {
    return outbox.all().then(function (rows) {
      var queued = rows.filter(function (r) { return r.state === "queued"; }).length;
      $$("[data-queue-badge]").forEach(function (badge) {
        badge.hidden = rows.length === 0;
        $("[data-queue-count]", badge).textContent = String(rows.length);
      });
      var section = $("[data-outbox]");
      if (section) {
        section.hidden = rows.length === 0;
        var list = $("[data-outbox-list]", section);
        list.textContent = "";
        rows.forEach(function (rec) {
          var li = document.createElement("li");
          var row = document.createElement("div");
          row.className = "row";
          var text = document.createElement("span");
          text.textContent = (KIND_LABELS[rec.kind] || rec.kind) + " · " + rec.label + " · " +
            new Date(rec.created).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" });
          var meta = document.createElement("span");
          meta.className = "meta" + (rec.state === "failed" ? " failed" : "");
          meta.textContent = rec.state === "failed" ? "未能发送:" + rec.error : (rec.error || "等待网络");
          text.appendChild(meta);
          row.appendChild(text);
          if (rec.state === "failed") {
            var drop = document.createElement("button");
            drop.type = "button";
            drop.textContent = "删除";
            drop.addEventListener("click", function () { outbox.remove(rec.id).then(refresh); });
            row.appendChild(drop);
          }
          li.appendChild(row);
          list.appendChild(li);
        });
      }
      schedule(queued);
      return rows.length;
    });
  }

  var sendNow = $("[data-outbox-send]");
  if (sendNow) { sendNow.addEventListener("click", function () { failures = 0; flush(); }); }

  // --- network state ----------------------------------------------------------------------------------

  function showNet() {
    $$("[data-net]").forEach(function (el) {
      el.textContent = navigator.onLine ? "在线" : "离线";
      el.classList.toggle("off", !navigator.onLine);
    });
    $$("[data-online-only]").forEach(function (el) { el.hidden = navigator.onLine; });
  }
  window.addEventListener("online", function () { showNet(); failures = 0; flush(); });
  window.addEventListener("offline", showNet);
  showNet();

  // --- location ---------------------------------------------------------------------------------------

  function setupGeo(form) {
    var status = $("[data-geo-status]", form);
    var lon = form.elements.lon;
    var lat = form.elements.lat;
    function locate() {
      if (!("geolocation" in navigator)) {
        status.textContent = "此浏览器不能定位,请手工填写经纬度。";
        $("[data-manual]", form).open = true;
        return;
      }
      status.className = "gp-status";
      status.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        lon.value = pos.coords.longitude.toFixed(6);
        lat.value = pos.coords.latitude.toFixed(6);
        if (form.elements.accuracy) { form.elements.accuracy.value = String(Math.round(pos.coords.accuracy)); }
        if (form.elements.manual) { form.elements.manual.value = "0"; }
        status.className = "gp-status ok";
        status.textContent = "已定位:" + lon.value + ", " + lat.value + "(精度约 " + Math.round(pos.coords.accuracy) + " 米)";
      }, function (err) {
        status.className = "gp-status warn";
        status.textContent = (err.code === 1 ? "没有定位权限" : "暂时无法定位") + ",请手工填写经纬度或稍后重新定位。";
        $("[data-manual]", form).open = true;
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
    }
    [lon, lat].forEach(function (input) {
      input.addEventListener("input", function () {
        if (form.elements.manual) { form.elements.manual.value = "1"; }
        if (form.elements.accuracy) { form.elements.accuracy.value = ""; }
      });
    });
    var again = $("[data-geolocate]", form);
    if (again) { again.addEventListener("click", locate); }
    locate();
  }
  $$("form[data-geo-form]").forEach(setupGeo);

  // --- photos: shrink big camera pictures before they wait in the outbox ----------------------------

  function shrink(file) {
    if (!window.createImageBitmap || file.size < 900 * 1024 || !/^image\//.test(file.type)) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob && blob.size < file.size ? blob : file);
        }, "image/jpeg", 0.82);
      });
    }).catch(function () { return file; });
  }

  // --- voice note -------------------------------------------------------------------------------------

  var voiceBlob = null;
  function setupVoice(box) {
    if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
    box.hidden = false;
    var start = $("[data-voice-start]", box), stop = $("[data-voice-stop]", box);
    var status = $("[data-voice-status]", box), preview = $("[data-voice-preview]", box);
    var clear = $("[data-voice-clear]", box);
    var recorder = null, chunks = [], limit = null, started = 0;
    var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];
    var mime = types.filter(function (t) { return MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(t); })[0] || "";
    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        chunks = [];
        recorder = mime ? new MediaRecorder(stream, { mimeType: mime, audioBitsPerSecond: 24000 }) : new MediaRecorder(stream);
        recorder.ondataavailable = function (e) { if (e.data && e.data.size) { chunks.push(e.data); } };
        recorder.onstop = function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          voiceBlob = new Blob(chunks, { type: recorder.mimeType || mime || "audio/webm" });
          preview.src = URL.createObjectURL(voiceBlob);
          preview.hidden = false;
          clear.hidden = false;
          status.textContent = "已录音 " + Math.round((Date.now() - started) / 1000) + " 秒。";
          start.disabled = false;
          stop.disabled = true;
        };
        recorder.start();
        started = Date.now();
        start.disabled = true;
        stop.disabled = false;
        status.textContent = "正在录音…(最长 60 秒)";
        limit = setTimeout(function () { if (recorder.state === "recording") { recorder.stop(); } }, 60000);
      }, function () {
        status.textContent = "没有麦克风权限,无法录音。";
      });
    });
    stop.addEventListener("click", function () {
      clearTimeout(limit);
      if (recorder && recorder.state === "recording") { recorder.stop(); }
    });
    clear.addEventListener("click", function () {
      voiceBlob = null;
      preview.hidden = true;
      clear.hidden = true;
      preview.removeAttribute("src");
      status.textContent = "";
    });
  }
  var voice = $("[data-voice]");
  if (voice) { setupVoice(voice); }

  var photoInput = $("#photos-report");
  if (photoInput) {
    photoInput.addEventListener("change", function () {
      var box = $("[data-photo-preview]");
      box.textContent = "";
      Array.prototype.forEach.call(photoInput.files, function (f) {
        var img = document.createElement("img");
        img.alt = "待上报照片";
        img.src = URL.createObjectURL(f);
        box.appendChild(img);
      });
    });
  }

  var more = $("[data-category-more]");
  if (more) {
    var other = $("input[name=category][value='']") || $$("input[name=category]").pop();
    var otherText = other.nextElementSibling.textContent;
    more.addEventListener("change", function () {
      other.value = more.value;
      other.checked = true;
      other.nextElementSibling.textContent = more.value ? more.options[more.selectedIndex].text.split(" · ").pop() : otherText;
    });
  }

  // --- households: pick one from the list, record a visit ------------------------------------------

  var visitForm = $("#visit-form");
  function chooseHousehold(link) {
    if (!visitForm || !link) { return; }
    $("[data-household-code]", visitForm).value = link.dataset.household;
    $("[data-household-title]", visitForm).textContent = link.dataset.title;
    $("[data-household-meta]", visitForm).textContent = link.dataset.meta;
    $$("h3, h3 + .gp-list", visitForm).forEach(function (el) { el.hidden = el.dataset.for !== link.dataset.household; });
    visitForm.hidden = false;
    $("[data-result]", visitForm).textContent = "";
    visitForm.scrollIntoView({ block: "start" });
  }
  if (visitForm) {
    var currentCode = $("[data-household-code]", visitForm).value;
    $$("h3, h3 + .gp-list", visitForm).forEach(function (el) { el.dataset.for = currentCode; });
    $$("a[data-household]").forEach(function (link) {
      link.addEventListener("click", function (e) {
        e.preventDefault();
        history.replaceState(null, "", "?h=" + encodeURIComponent(link.dataset.household));
        chooseHousehold(link);
      });
    });
    // Opened from the phone's cache under another address: pick the household the address names.
    var wanted = new URLSearchParams(location.search).get("h");
    if (wanted && wanted !== currentCode) {
      chooseHousehold($$("a[data-household]").filter(function (a) { return a.dataset.household === wanted; })[0]);
    }
    var needsHelp = $("[data-needs-help]", visitForm);
    var help = $("[data-help]", visitForm);
    var showHelp = function () { help.hidden = !needsHelp.checked; };
    needsHelp.addEventListener("change", showHelp);
    showHelp();
  }
  var filter = $("[data-household-filter]");
  if (filter) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim();
      $$("[data-households] > li[data-search]").forEach(function (li) {
        li.hidden = q !== "" && li.dataset.search.indexOf(q) < 0;
      });
    });
  }

  // --- the forms that go through the outbox ------------------------------------------------------------

  function labelOf(kind, form) {
    if (kind === "checkin") { return (form.elements.lon.value || "?") + ", " + (form.elements.lat.value || "?"); }
    if (kind === "visit") { return $("[data-household-title]", form).textContent; }
    var chosen = $("input[name=category]:checked", form);
    var text = form.elements.text.value.trim();
    return (chosen && chosen.value ? chosen.nextElementSibling.textContent : "") + (text ? " " + text.slice(0, 20) : "");
  }

  function precheck(kind, form) {
    if (kind === "checkin" && (!form.elements.lon.value.trim() || !form.elements.lat.value.trim())) {
      return "还没有位置:请点“重新定位”,或手工填写经纬度。";
    }
    if (kind === "visit" && !form.elements.household.value) { return "请先在下面的名单中选择一户。"; }
    if (kind === "report") {
      var chosen = $("input[name=category]:checked", form);
      if (!(chosen && chosen.value) && !form.elements.text.value.trim()) {
        return "请点一个问题类别,或写几句描述。";
      }
    }
    return "";
  }

  function show(form, text, tone) {
    var box = $("[data-result]", form);
    box.className = "gp-status" + (tone ? " " + tone : "");
    box.textContent = text;
  }

  function resetForm(kind, form) {
    form.elements.client_id.value = uuid();
    if (kind === "report") {
      form.elements.text.value = "";
      form.elements.address.value = "";
      form.elements.urgent.checked = false;
      photoInput.value = "";
      $("[data-photo-preview]").textContent = "";
      var clear = $("[data-voice-clear]");
      if (clear && !clear.hidden) { clear.click(); }
      var auto = $("input[name=category][value='']") || $$("input[name=category]").pop();
      if (auto) { auto.checked = true; }
    } else if (kind === "checkin") {
      form.elements.note.value = "";
    } else if (kind === "visit") {
      ["help_note", "supplies_requested", "note"].forEach(function (n) { form.elements[n].value = ""; });
      form.elements.needs_help.checked = false;
      form.elements.needs_help.dispatchEvent(new Event("change"));
    }
  }

  function record(kind, form) {
    var fields = [];
    var data = new FormData(form);
    data.forEach(function (value, name) {
      if (typeof value === "string" && name !== "csrfmiddlewaretoken") { fields.push([name, value]); }
    });
    fields = fields.filter(function (f) { return f[0] !== "at"; });
    if (kind !== "report") { fields.push(["at", new Date().toISOString()]); }
    var files = [];
    var waits = [];
    if (kind === "report") {
      Array.prototype.forEach.call(photoInput.files, function (f, i) {
        waits.push(shrink(f).then(function (blob) {
          files[i] = ["photos", blob, blob === f ? f.name : "photo-" + (i + 1) + ".jpg"];
        }));
      });
    }
    return Promise.all(waits).then(function () {
      if (kind === "report" && voiceBlob) {
        var ext = /ogg/.test(voiceBlob.type) ? "ogg" : /mp4/.test(voiceBlob.type) ? "m4a" : "webm";
        files.push(["audio", voiceBlob, "voice." + ext]);
      }
      return {
        id: form.elements.client_id.value || uuid(),
        kind: kind,
        url: form.action,
        label: labelOf(kind, form).trim() || KIND_LABELS[kind],
        created: new Date().toISOString(),
        fields: fields,
        files: files.filter(Boolean),
        state: "queued",
        attempts: 0,
        error: ""
      };
    });
  }

  $$("form[data-queue-form]").forEach(function (form) {
    var kind = form.dataset.queueForm;
    form.noValidate = true;
    var button = $("button[type=submit]", form);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var problem = precheck(kind, form);
      if (problem) { show(form, problem, "bad"); return; }
      button.disabled = true;
      show(form, "正在保存…", "");
      record(kind, form).then(function (rec) {
        return outbox.put(rec).then(function () {
          return send(rec).then(function (result) {
            var done;
            if (result.ok) {
              done = outbox.remove(rec.id).then(function () {
                show(form, result.data.message || "已发送", result.data.inside_grid === false ? "warn" : "ok");
                resetForm(kind, form);
              });
            } else if (result.failed) {
              // Refused for good (e.g. a typo in the coordinates): keep the form so it can be fixed.
              done = outbox.remove(rec.id).then(function () { show(form, result.error, "bad"); });
            } else {
              rec.error = result.error;
              rec.attempts = 1;
              done = outbox.put(rec).then(function () {
                show(form, "没有网络:已保存在手机上,联网后自动发送,不会重复。", "warn");
                resetForm(kind, form);
              });
            }
            return done.then(refresh);
          });
        });
      }).catch(function () {
        show(form, "无法保存到本机(存储空间不足或被禁用),请联网后再提交。", "bad");
      }).then(function () { button.disabled = false; });
    });
  });

  listeners.push(function (rec, result) {
    if (!result.ok) { return; }
    var toast = $("[data-toast]");
    if (toast) {
      toast.className = "gp-status ok";
      toast.textContent = "已发送暂存的" + (KIND_LABELS[rec.kind] || "记录") + ":" + (result.data.message || "");
    }
  });

  refresh().then(function (n) { if (n && navigator.onLine) { flush(); } });
})();
