// git agentos board: live updates. The server pushes server-sent events when
// files change; this only puts them in place. `swap`: "<id>\n<html>" replaces
// the element's content; `append`: adds to it (the agent's log, which follows
// its end while you are at its end). Elapsed times tick here, between updates.
"use strict";
(function () {
  const loaded = performance.now();
  let timer = null;

  function human(ms) {
    const s = Math.floor(ms / 1000);
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    return (h ? h + "h" : "") + (m ? m + "m" : "") + (r || !(h || m) ? r + "s" : "");
  }

  function stamp(root) {
    const now = performance.now();
    root.querySelectorAll("[data-elapsed-ms]").forEach(function (el) {
      if (!el.dataset.from) el.dataset.from = String(now);
    });
    if (timer === null && document.querySelector("[data-elapsed-ms]")) {
      timer = setInterval(tick, 1000);
    }
  }

  function tick() {
    const now = performance.now();
    const els = document.querySelectorAll("[data-elapsed-ms]");
    if (els.length === 0) {
      clearInterval(timer);
      timer = null;
      return;
    }
    els.forEach(function (el) {
      const from = Number(el.dataset.from || loaded);
      el.textContent = human(Number(el.dataset.elapsedMs) + now - from);
    });
  }

  function split(data) {
    const at = data.indexOf("\n");
    return [document.getElementById(data.slice(0, at)), data.slice(at + 1)];
  }

  function atEnd(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  }

  document.querySelectorAll("[data-elapsed-ms]").forEach(function (el) {
    el.dataset.from = String(loaded);
  });
  stamp(document);
  const log = document.getElementById("log");
  if (log) log.scrollTop = log.scrollHeight;

  // One stream per visible page: a hidden tab lets its connection go (a
  // browser allows few per site) and reopens it, where it left off, when shown.
  const source = document.body.dataset.events;
  if (!source || !window.EventSource) return;
  let events = null;
  let lastId = "";

  function remember(e) {
    if (e.lastEventId) lastId = e.lastEventId;
  }

  function open(resuming) {
    const url = new URL(source, location.href);
    if (resuming) {
      url.searchParams.set("gen", "resume");
      if (lastId) {
        const [attempt, offset] = lastId.split(":");
        url.searchParams.set("attempt", attempt);
        url.searchParams.set("offset", offset);
      }
    }
    events = new EventSource(url.pathname + url.search);
    events.onopen = function () { document.body.classList.add("is-live"); };
    events.onerror = function () { document.body.classList.remove("is-live"); };
    events.addEventListener("swap", function (e) {
      remember(e);
      const [el, html] = split(e.data);
      if (!el) return;
      el.innerHTML = html;
      stamp(el);
      const fresh = document.getElementById("log");
      if (fresh && el.contains(fresh)) fresh.scrollTop = fresh.scrollHeight;
    });
    events.addEventListener("append", function (e) {
      remember(e);
      const [el, html] = split(e.data);
      if (!el) return;
      const follow = atEnd(el);
      el.insertAdjacentHTML("beforeend", html);
      if (follow) el.scrollTop = el.scrollHeight;
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden && events) {
      events.close();
      events = null;
      document.body.classList.remove("is-live");
    } else if (!document.hidden && !events) {
      open(true);
    }
  });
  if (!document.hidden) open(false);
})();
