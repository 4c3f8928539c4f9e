/* Space pages: the community risk map (layer toggles, drawing and editing features) and the
   evacuation plan maps (routes coloured by shelter, arrows, unplaced buildings).
   Plain Leaflet, no plugin; everything comes from our own JSON so it works offline.
   The page puts its configuration in <script type="application/json" id="space-config">.
   Names are stored text: every label, tooltip and popup is built with rx.el (common.js), never as HTML. */
(function () {
  "use strict";

  var LEVEL_COLOURS = {1: "#e8c547", 2: "#f08a24", 3: "#d7263d", 4: "#7a0f1c"};
  var ROUTE_COLOURS = ["#1d5fa8", "#1e7b45", "#8e44ad", "#c0392b", "#d35400", "#16a085", "#2c3e50", "#b7950b",
                       "#6c3483", "#117864", "#a04000", "#1f618d"];
  var POI_COLOURS = {clinic: "#d7263d", hospital: "#d7263d", pharmacy: "#e05a6d", fire_station: "#c0392b",
                     school: "#1d5fa8", park: "#1e7b45", police: "#2c3e50", supermarket: "#b7950b",
                     supply_point: "#8e44ad"};

  var el = rx.el, label = rx.label;

  // A divIcon's content as a node: a span of the given class and inline style, holding text.
  function iconNode(cls, style, text) {
    var node = el("span", {"class": cls}, text);
    for (var k in style) { node.style[k] = style[k]; }
    return node;
  }

  function baseMap(node, cfg) {
    var m = L.map(node, {attributionControl: !!(cfg.basemap && cfg.basemap.url), zoomSnap: 0.25,
                         doubleClickZoom: false});
    if (cfg.basemap && cfg.basemap.url) {
      L.tileLayer(cfg.basemap.url, {maxZoom: 20, attribution: cfg.basemap.attribution || ""}).addTo(m);
    }
    L.control.scale({imperial: false}).addTo(m);
    return m;
  }

  function fit(m, bounds) {
    if (bounds && bounds.isValid()) {
      if (bounds.getNorthEast().equals(bounds.getSouthWest())) { m.setView(bounds.getCenter(), 17); }
      else { m.fitBounds(bounds, {padding: [24, 24], maxZoom: 18}); }
    } else {
      m.setView([32.06, 118.79], 15);
    }
  }

  function dot(colour, size, caption) {
    var html = el("span", null, iconNode("sx-dot", {background: colour, width: size + "px", height: size + "px"}));
    if (caption) { html.appendChild(label(caption, "sx-dot-label")); }
    return L.divIcon({className: "sx-icon", html: html, iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
  }

  // ---- styles of the map layers ----------------------------------------------------------------

  function styleFor(layer, props) {
    props = props || {};
    switch (layer) {
      case "hazard_zones":
        var c = LEVEL_COLOURS[props.level] || LEVEL_COLOURS[2];
        return {color: c, weight: 1.5, fillColor: c, fillOpacity: 0.28};
      case "passages":
        return {color: "#1d5fa8", weight: 4, dashArray: "8 5"};
      case "reserved_land":
        return {color: "#1e7b45", weight: 1.5, dashArray: "3 3", fillColor: "#7dcea0", fillOpacity: 0.25};
      case "roads":
        return {color: props.walkable === false ? "#bbb" : "#7d8794", weight: props.kind === "footway" ? 1.5 : 3,
                opacity: 0.9};
      case "buildings":
        return {color: "#5b6573", weight: 1, fillColor: "#c9ced6", fillOpacity: 0.7};
      case "shelters":
        var closed = props.status === "closed", cand = props.status === "candidate";
        return {color: closed ? "#888" : cand ? "#b7950b" : "#1e7b45", weight: 2, dashArray: cand ? "5 4" : null,
                fillColor: closed ? "#ccc" : cand ? "#f7dc6f" : "#58d68d", fillOpacity: 0.35};
      default:
        return {color: "#555", weight: 2, fillOpacity: 0.2};
    }
  }

  function pointFor(layer, props, latlng) {
    props = props || {};
    if (layer === "risk_points") {
      return L.marker(latlng, {icon: L.divIcon({className: "sx-icon", html: el("span", {"class": "sx-risk"}, "!"),
                                                iconSize: [20, 20], iconAnchor: [10, 10]})});
    }
    if (layer === "shelters") {
      var st = props.status || "open";
      var colour = st === "closed" ? "#888" : st === "candidate" ? "#b7950b" : "#1e7b45";
      return L.marker(latlng, {icon: dot(colour, 16, props.capacity !== undefined ? props.capacity : "")});
    }
    if (layer === "pois") {
      return L.circleMarker(latlng, {radius: 6, weight: 1.5, color: "#fff",
                                     fillColor: POI_COLOURS[props.kind] || "#566573", fillOpacity: 0.95});
    }
    if (layer === "buildings") {
      return L.circleMarker(latlng, {radius: 4, weight: 1, color: "#5b6573", fillColor: "#c9ced6", fillOpacity: 0.9});
    }
    return L.circleMarker(latlng, {radius: 5, weight: 1.5, color: "#333", fillOpacity: 0.7});
  }

  // ---- the risk map page -----------------------------------------------------------------------

  function riskMap(cfg) {
    var node = document.getElementById("spacemap");
    if (!node || !window.L) { return; }
    var m = baseMap(node, cfg);
    var groups = {}, loaded = {}, bounds = L.latLngBounds([]);
    var byKey = {};
    cfg.layers.forEach(function (ly) { byKey[ly.key] = ly; });
    var status = document.getElementById("space-status");
    var pending = 0;

    function setStatus(text) { if (status) { status.textContent = text || ""; } }

    function popupNode(ly, f) {
      var p = f.properties || {}, table = el("table");
      function row(name, value) { table.appendChild(el("tr", null, [el("th", null, name), el("td", null, value)])); }
      (ly.fields || []).forEach(function (fd) {
        var v = p[fd.name];
        if (v === null || v === undefined || v === "" || fd.name === "name") { return; }
        if (fd.options) {
          var hit = fd.options.filter(function (o) { return String(o[0]) === String(v); })[0];
          if (hit) { v = hit[1]; }
        }
        if (Array.isArray(v)) { v = v.join("、"); }
        row(fd.label, v);
      });
      (ly.extra || []).forEach(function (fd) {
        if (p[fd.name] !== undefined && p[fd.name] !== null) { row(fd.label, p[fd.name]); }
      });
      var box = el("div", {"class": "sx-pop"},
                   [el("b", null, p.name || ly.label), " ", el("span", {"class": "muted small"}, ly.label), table]);
      if (cfg.canWrite && ly.editable !== false && p.id !== undefined && !p.grid_unit) {
        box.appendChild(el("div", {"class": "sx-pop-actions"}, [
          el("button", {type: "button", "class": "btn btn-small", "data-edit": ly.key + ":" + p.id}, cfg.t.edit), " ",
          el("button", {type: "button", "class": "btn btn-small btn-danger", "data-delete": ly.key + ":" + p.id}, cfg.t.remove)
        ]));
      }
      return box;
    }

    var fetched = {};
    function source(url, fresh) {
      // Layers cut from one collection (buildings and places from the base features) share one request.
      if (!fetched[url] || fresh) {
        fetched[url] = rx.api(url, {headers: {Accept: "application/geo+json, application/json"}})
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); });
      }
      return fetched[url];
    }

    function load(key, refit) {
      var ly = byKey[key];
      pending += 1;
      setStatus(cfg.t.loading);
      return source(ly.url, !refit)
        .then(function (all) {
          var feats = (all.features || []).filter(function (f) {
            for (var k in ly.filter || {}) {
              if (!f.properties || f.properties[k] !== ly.filter[k]) { return false; }
            }
            return true;
          });
          if (ly.inline) { feats = feats.concat(ly.inline.features || []); }
          var data = {type: "FeatureCollection", features: feats};
          var g = L.geoJSON(data, {
            style: function (f) { return styleFor(key, f.properties); },
            pointToLayer: function (f, latlng) { return pointFor(key, f.properties, latlng); },
            onEachFeature: function (f, layer) {
              layer.feature = f;
              layer.bindPopup(function () { return popupNode(ly, f); });
              if (f.properties && f.properties.name && key !== "roads" && key !== "buildings") {
                layer.bindTooltip(label(f.properties.name), {direction: "top"});
              }
            }
          });
          if (key === "shelters") {
            // A shelter's ground is often a few metres across: mark its entrance with the capacity too.
            feats.forEach(function (f) {
              var p = f.properties || {};
              if (f.geometry && f.geometry.type !== "Point" && p.lon !== null && p.lon !== undefined) {
                var mk = pointFor(key, p, L.latLng(p.lat, p.lon));
                mk.feature = f;
                mk.bindPopup(function () { return popupNode(ly, f); });
                mk.bindTooltip(label(p.name), {direction: "top"});
                g.addLayer(mk);
              }
            });
          }
          if (groups[key]) { m.removeLayer(groups[key]); }
          groups[key] = g;
          loaded[key] = (data.features || []).length;
          var box = document.querySelector('[data-layer-count="' + key + '"]');
          if (box) { box.textContent = loaded[key]; }
          var check = document.querySelector('input[data-layer="' + key + '"]');
          if (!check || check.checked) { g.addTo(m); }
          if (refit) { bounds.extend(g.getBounds()); }
          return g;
        })
        .catch(function () { setStatus(cfg.t.loadFailed + " " + ly.label); })
        .then(function (g) {
          pending -= 1;
          if (pending === 0) { setStatus(""); node.setAttribute("data-loaded", "1"); }
          return g;
        });
    }

    // The view is set before any vector layer is drawn: Leaflet cannot draw a path without one.
    if (cfg.bounds) {
      var home = L.latLngBounds([[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]]);
      fit(m, home);
      bounds.extend(home);
    } else { fit(m, null); }
    Promise.all(cfg.layers.map(function (ly) { return load(ly.key, true); })).then(function () {
      if (bounds.isValid()) { fit(m, bounds); }
    });

    document.querySelectorAll("input[data-layer]").forEach(function (box) {
      box.addEventListener("change", function () {
        var g = groups[box.getAttribute("data-layer")];
        if (!g) { return; }
        if (box.checked) { g.addTo(m); } else { m.removeLayer(g); }
      });
    });

    if (cfg.canWrite) { editor(cfg, m, byKey, groups, load); }
  }

  // ---- drawing and editing ---------------------------------------------------------------------

  function editor(cfg, m, byKey, groups, reload) {
    var panel = document.getElementById("space-editor");
    var form = document.getElementById("space-form");
    var hint = document.getElementById("draw-hint");
    if (!panel || !form) { return; }
    var draft = null; // {layer, id, points: [LatLng], shape, geometry}
    var sketch = L.layerGroup().addTo(m);

    function geomKind(ly) { return ly.geom; }

    function redraw() {
      sketch.clearLayers();
      if (!draft) { return; }
      var pts = draft.points, kind = geomKind(byKey[draft.layer]);
      pts.forEach(function (p) { L.circleMarker(p, {radius: 4, color: "#d7263d", weight: 2, fillOpacity: 1}).addTo(sketch); });
      if (kind === "line" && pts.length > 1) { L.polyline(pts, {color: "#d7263d", weight: 3, dashArray: "4 4"}).addTo(sketch); }
      if (kind === "polygon" && pts.length > 1) {
        L.polygon(pts, {color: "#d7263d", weight: 2, dashArray: "4 4", fillOpacity: 0.15}).addTo(sketch);
      }
    }

    function geometryOf() {
      var pts = draft.points.map(function (p) { return [round(p.lng), round(p.lat)]; });
      var kind = geomKind(byKey[draft.layer]);
      if (kind === "point") { return pts.length ? {type: "Point", coordinates: pts[0]} : null; }
      if (kind === "line") { return pts.length > 1 ? {type: "LineString", coordinates: pts} : null; }
      if (pts.length < 3) { return null; }
      return {type: "Polygon", coordinates: [pts.concat([pts[0]])]};
    }

    function round(x) { return Math.round(x * 1e7) / 1e7; }

    function setHint(text) { if (hint) { hint.textContent = text || ""; hint.hidden = !text; } }

    function startDraw(key, id) {
      draft = draft && draft.layer === key && draft.id === id ? draft : {layer: key, id: id || null, points: []};
      draft.points = [];
      draft.drawing = true;
      m.getContainer().classList.add("sx-drawing");
      var kind = geomKind(byKey[key]);
      setHint(kind === "point" ? cfg.t.clickPoint : kind === "line" ? cfg.t.clickLine : cfg.t.clickPolygon);
      redraw();
    }

    function stopDraw() {
      if (draft) { draft.drawing = false; }
      m.getContainer().classList.remove("sx-drawing");
      setHint("");
    }

    function field(fd, value) {
      if ((value === null || value === undefined) && fd["default"] !== undefined) { value = fd["default"]; }
      var wrap = el("label", {"class": "field", "data-field": fd.name});
      wrap.appendChild(el("span", null, fd.label + (fd.required ? " *" : "")));
      var input;
      if (fd.type === "select") {
        input = el("select", {name: fd.name});
        if (!fd.required) { input.appendChild(el("option", {value: ""}, "—")); }
        fd.options.forEach(function (o) {
          var opt = el("option", {value: o[0]}, o[1]);
          if (value !== undefined && value !== null && String(value) === String(o[0])) { opt.selected = true; }
          input.appendChild(opt);
        });
      } else if (fd.type === "checkboxes") {
        wrap = el("fieldset", {"class": "field", "data-field": fd.name});
        wrap.appendChild(el("legend", null, fd.label));
        var have = Array.isArray(value) ? value : [];
        fd.options.forEach(function (o) {
          var lab = el("label", {"class": "check"});
          var cb = el("input", {type: "checkbox", name: fd.name, value: o[0]});
          if (have.indexOf(o[0]) >= 0) { cb.checked = true; }
          lab.appendChild(cb);
          lab.appendChild(document.createTextNode(" " + o[1]));
          wrap.appendChild(lab);
        });
        wrap.appendChild(el("small", {"class": "field-error", hidden: "hidden"}));
        return wrap;
      } else if (fd.type === "textarea") {
        input = el("textarea", {name: fd.name, rows: 2});
        input.value = value === null || value === undefined ? "" : value;
      } else {
        input = el("input", {name: fd.name, type: fd.type === "number" ? "number" : "text",
                             step: fd.type === "number" ? "any" : null});
        input.value = value === null || value === undefined ? "" : value;
      }
      wrap.appendChild(input);
      wrap.appendChild(el("small", {"class": "field-error", hidden: "hidden"}));
      return wrap;
    }

    function openForm(key, feature) {
      var ly = byKey[key], props = feature ? feature.properties : {};
      draft = {layer: key, id: feature ? props.id : null, points: [], geometry: null, original: props};
      form.innerHTML = "";
      form.setAttribute("data-layer", key);
      var title = el("h3", {"class": "form-title"}, (feature ? cfg.t.editing : cfg.t.adding) + " · " + ly.label);
      form.appendChild(title);
      var general = el("p", {"class": "alert alert-error", id: "space-form-error", hidden: "hidden", role: "alert"});
      form.appendChild(general);
      (ly.fields || []).forEach(function (fd) { form.appendChild(field(fd, props[fd.name])); });
      var geo = el("div", {"class": "field", "data-field": "geometry"});
      geo.appendChild(el("span", null, cfg.t.geometry));
      var redrawBtn = el("button", {type: "button", "class": "btn btn-small", id: "space-draw"},
                         feature ? cfg.t.redraw : cfg.t.draw);
      redrawBtn.addEventListener("click", function () { startDraw(key, draft.id); });
      geo.appendChild(redrawBtn);
      var done = el("button", {type: "button", "class": "btn btn-small", id: "space-draw-done"}, cfg.t.finish);
      done.addEventListener("click", function () { finishDraw(); });
      if (ly.geom !== "point") { geo.appendChild(done); }
      geo.appendChild(el("small", {"class": "field-error", hidden: "hidden"}));
      form.appendChild(geo);
      var actions = el("div", {"class": "form-actions"});
      actions.appendChild(el("button", {type: "submit", "class": "btn btn-primary", id: "space-save"}, cfg.t.save));
      var cancel = el("button", {type: "button", "class": "btn btn-ghost"}, cfg.t.cancel);
      cancel.addEventListener("click", closeForm);
      actions.appendChild(cancel);
      form.appendChild(actions);
      panel.hidden = false;
      if (!feature) { startDraw(key, null); }
      var first = form.querySelector("input, select, textarea");
      if (first && feature) { first.focus(); }
    }

    function finishDraw() {
      if (!draft) { return; }
      var g = geometryOf();
      if (g) { draft.geometry = g; }
      stopDraw();
    }

    function closeForm() {
      stopDraw();
      draft = null;
      sketch.clearLayers();
      form.innerHTML = "";
      panel.hidden = true;
    }

    function showErrors(body) {
      form.querySelectorAll(".field-error").forEach(function (s) { s.hidden = true; s.textContent = ""; });
      form.querySelectorAll(".has-error").forEach(function (s) { s.classList.remove("has-error"); });
      var general = document.getElementById("space-form-error");
      var rest = [];
      (body.errors || []).forEach(function (e) {
        var name = String(e.field || "").split(".")[0];
        var box = form.querySelector('[data-field="' + name + '"]');
        if (box) {
          box.classList.add("has-error");
          var s = box.querySelector(".field-error");
          s.textContent = e.message;
          s.hidden = false;
        } else {
          rest.push(e.message + (e.field ? " (" + e.field + ")" : ""));
        }
      });
      if (!body.errors || !body.errors.length) { rest.push(body.detail); }
      general.textContent = rest.join("；");
      general.hidden = !rest.length;
    }

    function values() {
      var ly = byKey[draft.layer], out = {};
      (ly.fields || []).forEach(function (fd) {
        if (fd.type === "checkboxes") {
          out[fd.name] = Array.prototype.map.call(form.querySelectorAll('input[name="' + fd.name + '"]:checked'),
                                                  function (c) { return c.value; });
          return;
        }
        var input = form.querySelector('[name="' + fd.name + '"]');
        var v = input ? input.value.trim() : "";
        if (v === "") {
          // New features leave empty fields to their defaults; an edit clears only what had a value.
          var had = draft.original && draft.original[fd.name] !== null && draft.original[fd.name] !== undefined;
          if (draft.id && had) { out[fd.name] = null; }
          return;
        }
        out[fd.name] = fd.type === "number" ? Number(v) : v;
      });
      return out;
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (draft && draft.drawing) { finishDraw(); }
      var ly = byKey[draft.layer], body = values();
      if (draft.geometry) { body.geometry = draft.geometry; }
      if (!draft.id) {
        body.unit_id = cfg.community.id;
        for (var k in ly.fixed || {}) { if (body[k] === undefined || body[k] === null) { body[k] = ly.fixed[k]; } }
      }
      // Drawn over a GCJ-02 basemap, the points are GCJ-02: the API converts them back to WGS-84.
      var url = (draft.id ? ly.api + "/" + draft.id : ly.api) + (cfg.crs !== "wgs84" ? "?crs=" + cfg.crs : "");
      rx.api(url, {method: draft.id ? "PATCH" : "POST", body: body})
        .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); })
        .then(function (res) {
          if (!res.ok) { showErrors(res.body); return; }
          var key = draft.layer;
          closeForm();
          reload(key, false);
          flash(cfg.t.saved);
        })
        .catch(function () { showErrors({detail: cfg.t.loadFailed}); });
    });

    function flash(text) {
      var f = document.getElementById("space-flash");
      if (!f) { return; }
      f.textContent = text;
      f.hidden = false;
      setTimeout(function () { f.hidden = true; }, 4000);
    }

    function featureOf(key, id) {
      var found = null;
      if (groups[key]) {
        groups[key].eachLayer(function (l) {
          if (l.feature && String(l.feature.properties.id) === String(id)) { found = l.feature; }
        });
      }
      return found;
    }

    m.on("click", function (ev) {
      if (!draft || !draft.drawing) { return; }
      draft.points.push(ev.latlng);
      redraw();
      if (geomKind(byKey[draft.layer]) === "point") { finishDraw(); }
    });
    m.on("dblclick", function () { if (draft && draft.drawing) { finishDraw(); } });

    document.querySelectorAll("[data-add-layer]").forEach(function (b) {
      b.addEventListener("click", function () { m.closePopup(); openForm(b.getAttribute("data-add-layer"), null); });
    });
    m.getContainer().addEventListener("click", function (ev) {
      var t = ev.target;
      if (!t || !t.getAttribute) { return; }
      var edit = t.getAttribute("data-edit"), del = t.getAttribute("data-delete");
      if (edit) {
        var parts = edit.split(":"), f = featureOf(parts[0], parts[1]);
        m.closePopup();
        if (f) { openForm(parts[0], f); }
      }
      if (del) {
        var dp = del.split(":");
        if (!window.confirm(cfg.t.confirmDelete)) { return; }
        rx.api(byKey[dp[0]].api + "/" + dp[1], {method: "DELETE"})
          .then(function (r) {
            m.closePopup();
            if (r.ok) { reload(dp[0], false); flash(cfg.t.deleted); }
            else { r.json().then(function (b) { window.alert(b.detail); }); }
          });
      }
    });
  }

  // ---- the evacuation plan maps ----------------------------------------------------------------

  function bearing(a, b) {
    var y = Math.sin((b[0] - a[0]) * Math.PI / 180) * Math.cos(b[1] * Math.PI / 180);
    var x = Math.cos(a[1] * Math.PI / 180) * Math.sin(b[1] * Math.PI / 180) -
            Math.sin(a[1] * Math.PI / 180) * Math.cos(b[1] * Math.PI / 180) * Math.cos((b[0] - a[0]) * Math.PI / 180);
    return Math.atan2(y, x) * 180 / Math.PI;
  }

  function arrow(path, colour) {
    // An arrowhead two thirds along the route, turned to the direction of travel.
    if (path.length < 2) { return null; }
    var i = Math.max(0, Math.floor((path.length - 1) * 2 / 3));
    var a = path[i], b = path[Math.min(i + 1, path.length - 1)];
    if (a[0] === b[0] && a[1] === b[1]) { return null; }
    var mid = [(a[1] + b[1]) / 2, (a[0] + b[0]) / 2];
    var deg = bearing(a, b);
    return L.marker(mid, {interactive: false, icon: L.divIcon({className: "sx-icon",
      html: iconNode("sx-arrow", {color: colour, transform: "rotate(" + (deg - 90) + "deg)"}, "➤"),
      iconSize: [14, 14], iconAnchor: [7, 7]})});
  }

  function planMap(node, plan, cfg) {
    if (!node || !window.L) { return; }
    var m = baseMap(node, cfg);
    var colourOf = {}, parts = [];
    (plan.shelters || []).forEach(function (s, i) { colourOf[s.id] = ROUTE_COLOURS[i % ROUTE_COLOURS.length]; });
    (plan.zones || []).forEach(function (z) {
      if (!z.geometry) { return; }
      var c = LEVEL_COLOURS[z.level] || LEVEL_COLOURS[3];
      parts.push(L.geoJSON(z.geometry, {interactive: false, style: {color: c, weight: 1, fillColor: c, fillOpacity: 0.25}}));
    });
    (plan.cut_roads || []).forEach(function (r) {
      if (!r.coords || !r.coords.length) { return; }
      parts.push(L.geoJSON({type: "MultiLineString", coordinates: r.coords}, {style: {color: "#111", weight: 4, dashArray: "2 6"}})
                 .bindTooltip(label(cfg.t.cut + (r.name ? " · " + r.name : ""))));
    });
    (plan.buildings || []).forEach(function (b) {
      (b.routes || []).forEach(function (rt) {
        var colour = colourOf[rt.shelter_id] || "#333";
        if (rt.path && rt.path.length > 1) {
          var latlngs = rt.path.map(function (p) { return [p[1], p[0]]; });
          parts.push(L.polyline(latlngs, {color: colour, weight: 3, opacity: 0.85})
                     .bindTooltip(label(b.name + " → " + rt.shelter_name + " · " + rt.persons + " " + cfg.t.persons)));
          var a = arrow(rt.path, colour);
          if (a) { parts.push(a); }
        }
      });
    });
    (plan.buildings || []).forEach(function (b) {
      if (b.lat === null || b.lon === null) { return; }
      var left = b.unplaced > 0;
      var first = b.routes && b.routes.length ? colourOf[b.routes[0].shelter_id] : "#999";
      var mk = L.circleMarker([b.lat, b.lon], {radius: 6, weight: left ? 3 : 1.5, color: left ? "#d7263d" : "#fff",
                                               fillColor: left ? "#f5b7b1" : first, fillOpacity: 0.95});
      mk.bindTooltip(label(b.name + " · " + b.persons.total + " " + cfg.t.persons +
                           (left ? " · " + cfg.t.unplaced + " " + b.unplaced : "")));
      parts.push(mk);
    });
    (plan.shelters || []).forEach(function (s) {
      if (s.lat === null || s.lon === null) { return; }
      var used = s.status === "open" || s.status === "candidate_open";
      var colour = used ? colourOf[s.id] : "#999";
      var use = used ? s.assigned + "/" + s.capacity : cfg.t.closed;
      var mk = L.marker([s.lat, s.lon], {icon: L.divIcon({className: "sx-icon",
        html: el("span", null, [iconNode("sx-shelter", {background: colour}, "避"), label(use, "sx-dot-label")]),
        iconSize: [22, 22], iconAnchor: [11, 11]})});
      mk.bindTooltip(label(s.name + " · " + use));
      parts.push(mk);
    });
    var group = L.featureGroup(parts);
    fit(m, group.getBounds());
    group.addTo(m);
    node.setAttribute("data-loaded", "1");
    return m;
  }

  function planPage(cfg) {
    document.querySelectorAll("[data-plan]").forEach(function (node) {
      var src = document.getElementById(node.getAttribute("data-plan"));
      if (!src) { return; }
      planMap(node, JSON.parse(src.textContent), cfg);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var cfg = rx.data("space-config");
    if (!cfg) { return; }
    if (cfg.mode === "map") { riskMap(cfg); }
    if (cfg.mode === "plan") { planPage(cfg); }
  });
})();
