// casekeeper console: the theme, keyboard shortcuts, multi-select, and live updates from the
// change feed (GET /api/v1/events/stream). Every page works without it; this makes it quicker.
"use strict";
(function () {
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem("ck-theme"); } catch (e) { /* private mode */ }
  if (saved === "dark" || saved === "light") root.dataset.theme = saved;

  function $(sel, el) { return (el || document).querySelector(sel); }
  function $$(sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); }
  function announce(text) { var live = $("#live-status"); if (live) live.textContent = text; }

  function toggleTheme() {
    var dark = root.dataset.theme ? root.dataset.theme === "dark"
      : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    try { localStorage.setItem("ck-theme", root.dataset.theme); } catch (e) { /* ignore */ }
  }

  // -- the queue's rows: j/k move, x selects, o opens ------------------------------------------
  var current = -1;
  function rows() { return $$("tr[data-row]"); }
  function setCurrent(i) {
    var list = rows();
    if (!list.length) return;
    current = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (r, n) { r.classList.toggle("current", n === current); });
    var link = $("[data-open]", list[current]);
    if (link) link.focus();
  }
  function currentRow() { var list = rows(); return current >= 0 ? list[current] : null; }

  function updateSelection() {
    var boxes = $$("input[name=ids]");
    var n = boxes.filter(function (b) { return b.checked; }).length;
    var label = $("#selected-count");
    if (label) label.textContent = n + " selected";
    $$("[data-bulk]").forEach(function (b) { b.disabled = n === 0; });
  }

  function bulk(action) {
    var form = $("#bulk-form");
    if (!form) return false;
    var checked = $$("input[name=ids]:checked");
    if (!checked.length) {
      var row = currentRow();
      var box = row && $("input[name=ids]", row);
      if (!box) return false;
      box.checked = true;
    }
    var button = $('button[data-bulk][value="' + action + '"]', form);
    if (!button) return false;
    button.disabled = false;
    button.click();
    return true;
  }

  function caseAction(action) {
    var button = $('button[data-action="' + action + '"]');
    if (button) { button.click(); return true; }
    return false;
  }

  var pendingG = false;
  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.target.isContentEditable) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    var page = document.body.dataset.page;
    var key = ev.key;
    if (pendingG) {
      pendingG = false;
      if (key === "q") { location.href = "/ui/"; return; }
      if (key === "i") { location.href = "/ui/incidents"; return; }
    }
    if (key === "g") { pendingG = true; return; }
    if (key === "?") { var help = $("#help"); if (help && !help.open) help.showModal(); ev.preventDefault(); return; }
    if (key === "/") { var q = $("#q"); if (q) { q.focus(); ev.preventDefault(); } return; }
    if (page === "queue" || page === "incidents") {
      if (key === "j") { setCurrent(current + 1); ev.preventDefault(); return; }
      if (key === "k") { setCurrent(current - 1); ev.preventDefault(); return; }
      if (key === "o" || key === "Enter") {
        var row = currentRow(); var link = row && $("[data-open]", row);
        if (link && key === "o") { link.click(); }
        return;
      }
      if (key === "x") {
        var r = currentRow(); var box = r && $("input[name=ids]", r);
        if (box) { box.checked = !box.checked; updateSelection(); }
        return;
      }
    }
    var actions = { a: "acknowledge", r: "resolve", m: "assign-me" };
    if (actions[key]) {
      var done = page === "case" ? caseAction(actions[key]) : page === "queue" && bulk(actions[key]);
      if (done) ev.preventDefault();
    }
  }

  // -- live updates ----------------------------------------------------------------------------
  var timer = null;
  function busy(container) {
    var active = document.activeElement;
    if (active && container.contains(active) && /^(input|textarea|select)$/i.test(active.tagName)) return true;
    return $$("input[name=ids]:checked", container).length > 0
      || $$("details[open]", container).length > 0;
  }
  function refresh(force) {
    var page = document.body.dataset.page;
    var container = $(page === "queue" ? "#queue-results" : "#case-live");
    if (!container) return;
    var banner = $("#live-banner");
    if (!force && busy(container)) { if (banner) banner.hidden = false; return; }
    var url = new URL(location.href);
    url.searchParams.set("fragment", page === "queue" ? "rows" : "live");
    fetch(url.toString(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        container.innerHTML = html;
        if (banner) banner.hidden = true;
        bind(container);
        if (current >= 0) setCurrent(current);
        announce(page === "queue" ? "The queue was updated" : "The case was updated");
        document.body.dataset.updated = String(Date.now());
      })
      .catch(function () { if (banner) banner.hidden = false; });
  }
  function later() { clearTimeout(timer); timer = setTimeout(function () { refresh(false); }, 250); }

  function listen() {
    var page = document.body.dataset.page;
    var url = document.body.dataset.stream;
    if (!url || !window.EventSource || (page !== "queue" && page !== "case")) return;
    var source = new EventSource(url, { withCredentials: true });
    var caseId = document.body.dataset.case;
    function onChange(ev) {
      if (page === "case") {
        var data = {};
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        if (data.case_id !== caseId) return;
      }
      later();
    }
    source.addEventListener("case", onChange);
    source.addEventListener("incident", function (ev) { if (page === "queue") later(); else onChange(ev); });
    source.addEventListener("reset", function () { refresh(false); });
    source.addEventListener("open", function () { document.body.dataset.live = "on"; });
  }

  function bind(scope) {
    $$("[data-select-all]", scope).forEach(function (all) {
      all.addEventListener("change", function () {
        $$("input[name=ids]").forEach(function (b) { b.checked = all.checked; });
        updateSelection();
      });
    });
    $$("input[name=ids]", scope).forEach(function (b) { b.addEventListener("change", updateSelection); });
    $$("[data-confirm]", scope).forEach(function (b) {
      b.addEventListener("click", function (ev) { if (!confirm(b.dataset.confirm)) ev.preventDefault(); });
    });
    updateSelection();
  }

  document.addEventListener("DOMContentLoaded", function () {
    $$("[data-theme-toggle]").forEach(function (b) { b.addEventListener("click", toggleTheme); });
    $$("[data-help]").forEach(function (b) { b.addEventListener("click", function () { $("#help").showModal(); }); });
    $$("[data-refresh]").forEach(function (b) { b.addEventListener("click", function () { refresh(true); }); });
    $$("select[data-autosubmit]").forEach(function (s) { s.addEventListener("change", function () { s.form.submit(); }); });
    document.addEventListener("keydown", onKey);
    bind(document);
    listen();
  });
})();
