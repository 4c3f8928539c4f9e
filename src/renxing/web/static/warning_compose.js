/* Warning pages: the compose map, where the warned area is drawn by clicking its corners, and the
   map of one warning. Plain Leaflet, no drawing plugin; data comes from JSON blocks (rx.data) and
   unit names are stored text, shown through rx.label. The drawn ring is posted as a GeoJSON Polygon
   in the map's datum (the form's crs field), closed here: its last position repeats the first. */
(function () {
  "use strict";

  var COLOURS = {blue: "#1f6fd1", yellow: "#d4a500", orange: "#f07c00", red: "#d7263d"};
  var QUIET = {color: "#8a96a8", weight: 1, fillOpacity: 0.03, dashArray: "4 4"};

  function baseMap(node, cfg) {
    var m = L.map(node, {attributionControl: !!(cfg.basemap && cfg.basemap.url), zoomSnap: 0.25});
    if (cfg.basemap && cfg.basemap.url) {
      L.tileLayer(cfg.basemap.url, {maxZoom: 20, attribution: cfg.basemap.attribution || ""}).addTo(m);
    }
    L.control.scale({imperial: false}).addTo(m);
    m.setView([32.06, 118.79], 15);  // a view before any layer: vectors added to an unloaded map fail to clip
    return m;
  }

  function fit(m, bounds) {
    if (bounds && bounds.isValid()) { m.fitBounds(bounds, {padding: [16, 16], maxZoom: 18, animate: false}); }
    else { m.setView([32.06, 118.79], 15, {animate: false}); }
  }

  function round(x) { return Math.round(x * 1e7) / 1e7; }

  // ---- compose: choose a unit, draw a polygon ---------------------------------------------------

  function composeMap() {
    var cfg = rx.data("warning-compose-data");
    var node = document.getElementById("compose-map");
    if (!cfg || !node || !window.L) { return; }
    var m = baseMap(node, cfg);
    var t = cfg.t;
    var select = document.getElementById("unit_id");
    var input = document.getElementById("polygon");
    var status = document.getElementById("draw-status");
    var startButton = document.getElementById("draw-start");
    var outlines = {};
    var all = L.featureGroup().addTo(m);
    cfg.units.forEach(function (u) {
      if (!u.geometry) { return; }
      var layer = L.geoJSON(u.geometry, {style: QUIET, interactive: false});
      layer.bindTooltip(rx.label(u.level_label + " · " + u.name), {sticky: true});
      outlines[u.id] = layer;
      layer.addTo(all);
    });

    function level() {
      var checked = document.querySelector('input[name="level"]:checked');
      return checked ? checked.value : "yellow";
    }

    function colour() { return COLOURS[level()] || COLOURS.yellow; }

    var vertices = [];
    var drawing = false;
    var shape = L.polygon([], {color: colour(), weight: 2, fillOpacity: 0.2}).addTo(m);
    var marks = L.layerGroup().addTo(m);

    function showUnit(refit) {
      var chosen = select ? select.value : "";
      Object.keys(outlines).forEach(function (id) {
        outlines[id].setStyle(id === chosen ? {color: colour(), weight: 2.5, fillOpacity: vertices.length ? 0.04 : 0.16,
                                               dashArray: null} : QUIET);
      });
      if (!refit) { return; }
      if (vertices.length >= 3) { fit(m, shape.getBounds()); }
      else if (outlines[chosen]) { fit(m, outlines[chosen].getBounds()); }
      else { fit(m, all.getBounds()); }
    }

    function ring() {
      var r = vertices.map(function (v) { return [round(v.lng), round(v.lat)]; });
      r.push(r[0].slice());
      return r;
    }

    function redraw() {
      shape.setLatLngs(vertices);
      shape.setStyle({color: colour()});
      marks.clearLayers();
      vertices.forEach(function (v) {
        L.circleMarker(v, {radius: 4, color: colour(), weight: 2, fillColor: "#fff", fillOpacity: 1}).addTo(marks);
      });
      input.value = vertices.length >= 3 ? JSON.stringify({type: "Polygon", coordinates: [ring()]}) : "";
      if (vertices.length >= 3) { status.textContent = t.vertices.replace("{n}", vertices.length); }
      else if (vertices.length) { status.textContent = t.tooFew; }
      else { status.textContent = drawing ? t.drawing : t.none; }
      showUnit(false);
    }

    function setDrawing(on) {
      drawing = on;
      node.classList.toggle("wx-drawing", on);
      startButton.classList.toggle("btn-primary", on);
      startButton.setAttribute("aria-pressed", on ? "true" : "false");
      if (on) { m.doubleClickZoom.disable(); } else { m.doubleClickZoom.enable(); }
      redraw();
    }

    m.on("click", function (ev) {
      if (!drawing) { return; }
      vertices.push(ev.latlng);
      redraw();
    });
    startButton.addEventListener("click", function () { setDrawing(!drawing); });
    document.getElementById("draw-undo").addEventListener("click", function () { vertices.pop(); redraw(); });
    document.getElementById("draw-clear").addEventListener("click", function () { vertices = []; redraw(); });
    if (select) { select.addEventListener("change", function () { showUnit(true); }); }

    var hint = document.getElementById("approval-hint");
    function showLevel() {
      var checked = document.querySelector('input[name="level"]:checked');
      var exercise = document.getElementById("exercise");
      if (hint && checked) {
        var needs = checked.getAttribute("data-needs-approval") === "true" && !(exercise && exercise.checked);
        hint.textContent = needs ? t.approval : t.direct;
        hint.classList.toggle("wx-needs", needs);
      }
      redraw();
    }
    document.querySelectorAll('input[name="level"], #exercise').forEach(function (r) {
      r.addEventListener("change", showLevel);
    });

    if (cfg.polygon && cfg.polygon.coordinates && cfg.polygon.coordinates[0]) {
      vertices = cfg.polygon.coordinates[0].slice(0, -1).map(function (p) { return L.latLng(p[1], p[0]); });
    }
    showLevel();
    showUnit(true);
  }

  // ---- one warning: its area --------------------------------------------------------------------

  function readMap() {
    var cfg = rx.data("warning-read-data");
    var node = document.getElementById("warning-map");
    if (!cfg || !node || !window.L) { return; }
    var m = baseMap(node, cfg);
    var c = COLOURS[cfg.level] || COLOURS.yellow;
    var area = cfg.polygon || cfg.outline;
    if (cfg.polygon && cfg.outline) { L.geoJSON(cfg.outline, {style: QUIET, interactive: false}).addTo(m); }
    if (area) {
      fit(m, L.geoJSON(area, {style: {color: c, weight: 2.5, fillOpacity: 0.22}}).addTo(m).getBounds());
    } else if (cfg.point) {
      L.circleMarker(cfg.point, {radius: 9, color: c, weight: 3, fillOpacity: 0.3}).addTo(m);
      m.setView(cfg.point, 16, {animate: false});
    } else {
      fit(m, null);
    }
  }

  composeMap();
  readMap();
})();
