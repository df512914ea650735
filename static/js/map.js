/* Draws the sites of a folium map from the JSON data beside it.
 * Data rows: [lat, lon, siteId, availability, name]; availability f = free places,
 * x = no free places or paused, s = data out of date. Names are set as text, never HTML. */
(function () {
  "use strict";

  var SYMBOLS = { f: "✓", x: "–", s: "!", h: "⌂" };

  function icon(kind) {
    return L.divIcon({
      className: "site-marker site-marker-" + kind,
      html: "<span aria-hidden=\"true\">" + SYMBOLS[kind] + "</span>",
      iconSize: [26, 26],
      iconAnchor: [13, 13],
      popupAnchor: [0, -12]
    });
  }

  function popupLoader(urlTemplate, siteId, loadingText) {
    return function () {
      var box = document.createElement("div");
      box.className = "popup-body";
      box.textContent = loadingText;
      fetch(urlTemplate.replace("/0/", "/" + siteId + "/"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) { box.innerHTML = html; })  /* server-rendered, escaped fragment */
        .catch(function () { box.textContent = "–"; });
      return box;
    };
  }

  function draw(frame) {
    var name = frame.getAttribute("data-map-name");
    var map = window[name];
    var dataElement = document.getElementById("map-data-" + name);
    if (!map || !dataElement) { return; }
    var rows = JSON.parse(dataElement.textContent);
    var labels = { f: frame.getAttribute("data-label-f"), x: frame.getAttribute("data-label-x"), s: frame.getAttribute("data-label-s"), h: "" };
    var icons = { f: icon("f"), x: icon("x"), s: icon("s"), h: icon("h") };
    var popupUrl = frame.getAttribute("data-popup-url");
    var loading = frame.getAttribute("data-loading");
    var markers = new Array(rows.length);
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var marker = L.marker([row[0], row[1]], { icon: icons[row[3]], title: labels[row[3]] ? row[4] + " – " + labels[row[3]] : row[4], keyboard: true, siteId: row[2] });
      if (popupUrl && row[3] !== "h") { marker.bindPopup(popupLoader(popupUrl, row[2], loading), { maxWidth: 320 }); }
      markers[i] = marker;
    }
    var layer;
    if (frame.getAttribute("data-cluster") === "true") {
      layer = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
      layer.addLayers(markers);
    } else {
      layer = L.layerGroup(markers);
    }
    layer.addTo(map);
    frame.markerLayer = layer;
    if (frame.getAttribute("data-fit") === "true" && rows.length > 0) {
      var bounds = L.latLngBounds(rows.map(function (r) { return [r[0], r[1]]; }));
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
    }
    frame.setAttribute("data-ready", String(rows.length));
  }

  document.querySelectorAll(".map-frame").forEach(draw);
})();
