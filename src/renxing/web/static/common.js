/* Shared by every page, loaded first from base.html.
   Stored text (place names, people's names, categories) reaches the page as data, never as markup:
   labels, tooltips and popups are DOM nodes filled with textContent (rx.el), and where a library
   wants an HTML string (ECharts tooltips) the text goes through rx.esc. The Content-Security-Policy
   allows script only from our own files, so pages read their data from
   <script type="application/json"> blocks (rx.data) and behaviours come from data- attributes. */
window.rx = (function () {
  "use strict";

  var ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};

  function str(v) { return v === null || v === undefined ? "" : String(v); }

  // An element whose attributes and content are text; children may be nodes or strings.
  function el(tag, attrs, content) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { e.setAttribute(k, attrs[k]); }
    }
    append(e, content);
    return e;
  }

  function append(parent, content) {
    if (content === null || content === undefined) { return parent; }
    if (Array.isArray(content)) { content.forEach(function (c) { append(parent, c); }); return parent; }
    parent.appendChild(content instanceof Node ? content : document.createTextNode(String(content)));
    return parent;
  }

  // A map label (Leaflet tooltip, popup title, marker caption): plain text in a span.
  function label(text, cls) { return el("span", cls ? {"class": cls} : null, str(text)); }

  // For the one place a library takes an HTML string.
  function esc(v) { return str(v).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; }); }

  // The JSON a page carries in <script type="application/json" id="...">.
  function data(id, fallback) {
    var node = document.getElementById(id);
    if (!node) { return fallback === undefined ? null : fallback; }
    return JSON.parse(node.textContent);
  }

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function isPlain(v) {
    return v !== null && typeof v === "object" && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype);
  }

  /* fetch() for our own JSON API: the session cookie, Accept JSON, a plain object or array as the
     body goes as JSON, and every write carries the session's CSRF token in X-CSRF-Token. */
  function api(url, options) {
    var o = {}, k, headers = {Accept: "application/json"};
    options = options || {};
    for (k in options) { o[k] = options[k]; }
    for (k in options.headers || {}) { headers[k] = options.headers[k]; }
    o.method = (o.method || "GET").toUpperCase();
    o.credentials = "same-origin";
    if (isPlain(o.body)) {
      o.body = JSON.stringify(o.body);
      headers["Content-Type"] = "application/json";
    }
    var sameSite = url.charAt(0) === "/" && url.charAt(1) !== "/";
    if (sameSite && o.method !== "GET" && o.method !== "HEAD") { headers["X-CSRF-Token"] = csrfToken(); }
    o.headers = headers;
    return fetch(url, o);
  }

  /* An ECharts axis tooltip that escapes every name it shows (the category; the series when there
     are several), with an optional unit after each value (one for all series, or a list by series).
     The marker is ECharts' own markup. */
  function axisTip(unit) {
    return function (params) {
      var list = Array.isArray(params) ? params : [params];
      if (!list.length) { return ""; }
      var rows = [esc(list[0].axisValueLabel !== undefined ? list[0].axisValueLabel : list[0].name)];
      list.forEach(function (p) {
        var v = Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value;
        var name = list.length > 1 ? esc(p.seriesName) + " " : "";
        rows.push((p.marker || "") + name + "<b>" + esc(v === null || v === undefined ? "—" : v) + esc((Array.isArray(unit) ? unit[p.seriesIndex] : unit) || "") + "</b>");
      });
      return rows.join("<br>");
    };
  }

  // A message in place of a chart or map with nothing to draw.
  function empty(node, text) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
    node.appendChild(el("p", {"class": "empty"}, text));
  }

  // ---- behaviours declared by attributes (inline handlers are refused by the CSP) ------------------

  function navigateTo(node) {
    var v = node.value;
    var target = v === "" && node.hasAttribute("data-navigate-empty")
      ? node.getAttribute("data-navigate-empty")
      : node.getAttribute("data-navigate").replace("{value}", encodeURIComponent(v));
    window.location.href = target;
  }

  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (!t || !t.hasAttribute) { return; }
    if (t.hasAttribute("data-navigate")) { navigateTo(t); return; }
    if (t.hasAttribute("data-autosubmit") && t.form) {
      // data-autosubmit="run": empty the form's field "run" first (a new choice starts afresh).
      var clear = t.getAttribute("data-autosubmit");
      if (clear && t.form.elements[clear]) { t.form.elements[clear].value = ""; }
      t.form.submit();
    }
  });

  document.addEventListener("submit", function (ev) {
    var f = ev.target, msg = f && f.getAttribute && f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });

  document.addEventListener("click", function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest("[data-back]") : null;
    if (a && window.history.length > 1) { ev.preventDefault(); window.history.back(); }
  });

  // htmx requests other than GET carry the CSRF token like rx.api does.
  document.addEventListener("htmx:configRequest", function (ev) {
    if (ev.detail && ev.detail.verb && ev.detail.verb !== "get") { ev.detail.headers["X-CSRF-Token"] = csrfToken(); }
  });

  // The bell's count of unread messages (the page works without it).
  document.addEventListener("DOMContentLoaded", function () {
    var bell = document.getElementById("bell-count");
    if (!bell || !window.fetch) { return; }
    api("/api/v1/notifications?unread=true&size=1")
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (d && d.unread) { bell.textContent = d.unread > 99 ? "99+" : String(d.unread); bell.hidden = false; }
      })
      .catch(function () {});
  });

  return {el: el, append: append, label: label, esc: esc, data: data, csrfToken: csrfToken, api: api,
          axisTip: axisTip, empty: empty};
})();
