/* The care coverage map: a circle per building, coloured by the share of its vulnerable residents
   who have a carer, ringed where services overlap. The points come from the map node's
   data-points attribute; building names are drawn as text (rx.label). */
(function () {
  "use strict";

  function colour(p) {
    if (p.share === null) { return "#8a94a3"; }
    return p.share >= 0.9 ? "#1a7f45" : (p.share >= 0.6 ? "#d99400" : "#d0021b");
  }

  function coverageMap() {
    var node = document.getElementById("care-map");
    if (!node || !window.L) { return; }
    var pts = JSON.parse(node.getAttribute("data-points") || "[]");
    var map = L.map(node, {attributionControl: false});
    var group = L.featureGroup().addTo(map);
    pts.forEach(function (p) {
      if (!p.vulnerable) { return; }
      var mk = L.circleMarker([p.lat, p.lon], {radius: 6 + Math.min(10, p.vulnerable),
        color: p.over ? "#6b2fa3" : (p.uncovered ? "#d0021b" : "#fff"), weight: p.over ? 4 : 2,
        fillColor: colour(p), fillOpacity: 0.85});
      mk.bindTooltip(rx.label(p.name + " · " + p.covered + "/" + p.vulnerable + (p.over ? " ⚑" : "")));
      mk.addTo(group);
    });
    if (group.getLayers().length) { map.fitBounds(group.getBounds().pad(0.2), {maxZoom: 18}); }
    else { map.setView([32.06, 118.79], 15); }
  }

  document.addEventListener("DOMContentLoaded", coverageMap);
})();
