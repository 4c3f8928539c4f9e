/* An incoming CAP alert's page: its areas (polygons, circles) in the warning's colour and the
   communities it was matched to, on a Leaflet map. Everything comes from the page's JSON block
   (rx.data); names are stored text, so tooltips are DOM nodes filled with text (rx.label). */
(function () {
  "use strict";

  var COLOURS = {blue: "#1e6fd9", yellow: "#d4a600", orange: "#ef7d00", red: "#d7263d"};
  var UNIT = "#1d5fa8";
  var label = rx.label;

  function draw(node, cfg) {
    if (!cfg.areas.features.length && !cfg.outlines.features.length) { rx.empty(node, cfg.t.none); return; }
    var m = L.map(node, {attributionControl: !!(cfg.basemap && cfg.basemap.url), zoomSnap: 0.25});
    if (cfg.basemap && cfg.basemap.url) {
      L.tileLayer(cfg.basemap.url, {maxZoom: 20, attribution: cfg.basemap.attribution || ""}).addTo(m);
    }
    L.control.scale({imperial: false}).addTo(m);
    var colour = COLOURS[cfg.level] || "#6b7585";
    var all = L.featureGroup().addTo(m);

    L.geoJSON(cfg.outlines, {
      style: function () { return {color: UNIT, weight: 2, fillColor: UNIT, fillOpacity: 0.08, dashArray: "4 4"}; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 7, color: "#fff", weight: 2, fillColor: UNIT, fillOpacity: 0.95});
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(label(f.properties.name, "ax-map-label"), {permanent: true, direction: "center", className: "ax-tip"});
      }
    }).addTo(all);

    L.geoJSON(cfg.areas, {
      style: function () { return {color: colour, weight: 2.5, fillColor: colour, fillOpacity: 0.22}; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 8, color: colour, weight: 3, fillColor: colour, fillOpacity: 0.5});
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        var text = p.desc || cfg.t.area;
        if (p.kind === "circle" && p.radius_km) { text += " · " + cfg.t.radius + " " + p.radius_km + " " + cfg.t.km; }
        layer.bindTooltip(label(text));
      }
    }).addTo(all);

    var b = all.getBounds();
    if (b.getNorthEast().equals(b.getSouthWest())) { m.setView(b.getCenter(), 15); }
    else { m.fitBounds(b, {padding: [20, 20], maxZoom: 16}); }
    node.setAttribute("data-drawn", String(all.getLayers().length));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("alert-map");
    var cfg = rx.data("incoming-map");
    if (node && cfg && window.L) { draw(node, cfg); }
  });
})();
