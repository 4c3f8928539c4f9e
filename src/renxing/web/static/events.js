/* Pages of the closed loop: the report form (pick a building or a point on the map, the photo
   count), the handler's check-in position, and the dashboard (charts and the hot-spot map).
   Each part starts only when its <script type="application/json"> block is on the page; names of
   units, categories and handlers are drawn as text (rx.label, rx.axisTip). */
(function () {
  "use strict";

  // ---- the report form ---------------------------------------------------------------------------

  function reportForm(d) {
    var latIn = document.getElementById("lat"), lonIn = document.getElementById("long");
    var text = document.getElementById("point-text");
    var radio = function (v) {
      var r = document.querySelector('input[name=place][value="' + v + '"]');
      if (r) { r.checked = true; }
    };
    var select = document.getElementById("unit-select");
    if (select) { select.addEventListener("change", function () { radio("building"); }); }
    var map = null, marker = null;
    var node = document.getElementById("pick-map");

    function choose(lat, lon, quiet) {
      latIn.value = lat.toFixed(6); lonIn.value = lon.toFixed(6);
      text.textContent = d.t.chosen + " " + latIn.value + ", " + lonIn.value;
      if (!quiet) { radio("point"); }
      if (map) {
        if (marker) { marker.setLatLng([lat, lon]); }
        else { marker = L.circleMarker([lat, lon], {radius: 9, color: "#fff", weight: 3, fillColor: "#b3202e", fillOpacity: 1}).addTo(map); }
      }
    }

    if (node && window.L) {
      map = L.map(node, {attributionControl: false, zoomSnap: 0.25});
      var shapes = [];
      (d.layers || []).forEach(function (u) {
        var building = u.level === "building";
        var style = building
          ? {color: "#a61b29", weight: 1, fillColor: "#e0464f", fillOpacity: 0.2}
          : {color: "#1d5fa8", weight: u.level === "area" ? 1.5 : 2, fillOpacity: 0.04, dashArray: u.level === "area" ? "4 3" : null};
        var s = u.geometry ? L.geoJSON(u.geometry, {style: style, interactive: false})
                           : L.circleMarker([u.lat, u.lon], {radius: 4, color: "#a61b29", weight: 1, fillOpacity: 0.6, interactive: false});
        if (building || u.level === "area") {
          s.bindTooltip(rx.label(u.name), {permanent: false, direction: "center", className: "map-label"});
        }
        shapes.push(s);
      });
      var group = L.featureGroup(shapes);
      var b = group.getBounds();
      if (b.isValid()) {
        if (b.getNorthEast().equals(b.getSouthWest())) { map.setView(b.getCenter(), 17); }
        else { map.fitBounds(b, {padding: [12, 12], maxZoom: 18}); }
        group.addTo(map);
      }
      L.control.scale({imperial: false}).addTo(map);
      map.on("click", function (ev) { choose(ev.latlng.lat, ev.latlng.lng); });
      if (latIn.value && lonIn.value) { choose(parseFloat(latIn.value), parseFloat(lonIn.value), true); }
    }

    document.getElementById("locate-me").addEventListener("click", function () {
      if (!navigator.geolocation) { text.textContent = d.t.noLocation; return; }
      text.textContent = d.t.locating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        choose(pos.coords.latitude, pos.coords.longitude);
        if (map) { map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), 17)); }
      }, function () { text.textContent = d.t.noLocation; },
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });

    var photos = document.getElementById("photos"), hint = document.getElementById("photo-hint");
    var base = hint.textContent;
    photos.addEventListener("change", function () {
      var n = photos.files.length, big = 0;
      for (var i = 0; i < n; i++) { if (photos.files[i].size > d.maxMb * 1024 * 1024) { big++; } }
      hint.textContent = n + " / " + d.maxPhotos + " · " + base;
      hint.classList.toggle("field-error", n > d.maxPhotos || big > 0);
    });
  }

  // ---- the handler's check-in on the report page -----------------------------------------------

  function checkIn(t) {
    var btn = document.getElementById("ci-locate"), status = document.getElementById("ci-status");
    if (!btn) { return; }
    btn.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = t.noLocation; return; }
      status.textContent = t.locating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("ci-lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("ci-long").value = pos.coords.longitude.toFixed(6);
        status.textContent = "±" + Math.round(pos.coords.accuracy) + " m";
      }, function () { status.textContent = t.noLocation; },
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 30000});
    });
  }

  // ---- the dashboard -----------------------------------------------------------------------------

  function dashboard(d) {
    var charts = d.charts, big = d.big, names = d.t;
    var ink = big ? "#dbe6f5" : "#1f2733", line = big ? "#2b4466" : "#e3e8ef";
    var font = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
    var all = [];

    function base(units) {
      return {textStyle: {fontFamily: font, color: ink, fontSize: big ? 16 : 12},
              grid: {left: 8, right: 24, top: 30, bottom: 8, containLabel: true},
              tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, formatter: rx.axisTip(units)},
              legend: {top: 0, textStyle: {color: ink}}};
    }
    function axis(type, extra) {
      var a = {type: type, axisLine: {lineStyle: {color: line}}, axisLabel: {color: ink, fontSize: big ? 15 : 12},
               splitLine: {lineStyle: {color: line}}};
      for (var k in extra || {}) { a[k] = extra[k]; }
      return a;
    }
    function draw(id, option, data) {
      var node = document.getElementById(id);
      if (!window.echarts || !node) { return; }
      if (!data.labels.length) { rx.empty(node, names.empty); return; }
      var c = echarts.init(node);
      c.setOption(option);
      all.push(c);
    }
    function bars(data, horizontal) {
      var o = base();
      var cat = axis("category", {data: data.labels, inverse: horizontal, axisTick: {show: false}});
      var val = axis("value", {minInterval: 1});
      o.xAxis = horizontal ? val : cat;
      o.yAxis = horizontal ? cat : val;
      o.series = [
        {name: names.count, type: "bar", data: data.count, barMaxWidth: 26, itemStyle: {color: "#1d5fa8"}},
        {name: names.open, type: "bar", data: data.open, barMaxWidth: 26, itemStyle: {color: "#e0464f"}}
      ];
      return o;
    }
    draw("chart-unit", bars(charts.unit, false), charts.unit);
    draw("chart-category", bars(charts.category, true), charts.category);
    draw("chart-handler", bars(charts.handler, true), charts.handler);
    var mo = charts.month, o = base(["", "%"]);
    o.xAxis = axis("category", {data: mo.labels});
    o.yAxis = [axis("value", {minInterval: 1}),
               axis("value", {min: 0, max: 100, axisLabel: {color: ink, fontSize: big ? 15 : 12, formatter: "{value}%"},
                              splitLine: {show: false}})];
    o.series = [
      {name: names.count, type: "bar", data: mo.count, barMaxWidth: 30, itemStyle: {color: "#1d5fa8"}},
      {name: names.loop, type: "line", yAxisIndex: 1, itemStyle: {color: "#1e7b45"},
       data: mo.closed_loop_rate.map(function (v) { return v === null ? null : Math.round(v * 100); })}
    ];
    draw("chart-month", o, mo);
    window.addEventListener("resize", function () { all.forEach(function (c) { c.resize(); }); });
    hotMap(d, big, names);
  }

  function hotMap(d, big, names) {
    var node = document.getElementById("hotmap");
    if (!window.L || !node) { return; }
    var outlines = [];
    (d.layers || []).forEach(function (u) {
      if (!u.geometry) { return; }
      outlines.push(L.geoJSON(u.geometry, {interactive: false, style: {color: big ? "#6fa8ff" : "#1d5fa8",
        weight: u.level === "area" ? 1 : 2, dashArray: u.level === "area" ? "4 3" : null,
        fillOpacity: u.level === "community" ? 0.05 : 0}}));
    });
    var circles = (d.spots || []).map(function (c) {
      var open = c.open > 0;
      var m = L.circleMarker([c.lat, c.lon], {radius: 5 + 3.5 * Math.sqrt(c.count), weight: 1.5,
        color: open ? "#b3202e" : "#1d5fa8", fillColor: open ? "#e0464f" : "#4f8fd6", fillOpacity: 0.55});
      m.bindTooltip(rx.label(names.count + " " + c.count + " · " + names.open + " " + c.open));
      return m;
    });
    var group = L.featureGroup(outlines.concat(circles));
    // Zoom to where the reports are; the outlines around them give the bearings.
    var b = circles.length ? L.featureGroup(circles).getBounds().pad(0.4) : group.getBounds();
    if (!b.isValid()) { rx.empty(node, names.empty); return; }
    // The view is set before any layer is added: Leaflet cannot draw a path on a map without one.
    var map = L.map(node, {attributionControl: false, zoomSnap: 0.25});
    if (b.getNorthEast().equals(b.getSouthWest())) { map.setView(b.getCenter(), 17); }
    else { map.fitBounds(b, {padding: [16, 16], maxZoom: 18}); }
    group.addTo(map);
    L.control.scale({imperial: false}).addTo(map);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = rx.data("report-form-data"), ci = rx.data("check-in-data"), dash = rx.data("dashboard-data");
    if (form) { reportForm(form); }
    if (ci) { checkIn(ci); }
    if (dash) { dashboard(dash); }
  });
})();
