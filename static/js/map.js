/* Draws the sites of a folium map from the JSON data beside it.
 * Data rows: [lat, lon, siteId, availability, name]; availability f = free places,
 * x = no free places or paused, s = data out of date (docs/rules.md §8.6), h = the client's home.
 * A marker's shape is an inner element with the same markup as the legend's, because Leaflet
 * positions the icon's own element with a transform. Names are set as text, never HTML. */
(function () {
  "use strict";

  var HOME = "⌂";
  /* Popups pan into view clear of the zoom buttons (top left) and the map's edges. */
  var PAN_TOP_LEFT = [50, 16];
  var PAN_BOTTOM_RIGHT = [16, 16];
  var POPUP_CHROME = 40;  /* .site-popup content margins in static/css/app.css */

  function escapeText(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function icon(kind, symbol) {
    return L.divIcon({
      className: "map-marker",
      html: "<span class=\"site-marker site-marker-" + kind + "\" aria-hidden=\"true\"><span>" + escapeText(symbol) + "</span></span>",
      iconSize: [28, 28],
      iconAnchor: [14, 14],
      popupAnchor: [0, -14]
    });
  }

  /* A readable popup: about 260-320 px wide, less on a narrow map, and always inside the map. */
  function fitPopupWidth(popup, map) {
    var room = map.getSize().x - PAN_TOP_LEFT[0] - PAN_BOTTOM_RIGHT[0] - POPUP_CHROME;
    popup.options.maxWidth = Math.max(Math.min(320, room), 120);
    popup.options.minWidth = Math.min(260, popup.options.maxWidth);
  }

  function bindPopup(marker, map, urlTemplate, siteId, loadingText) {
    var box = null;
    marker.bindPopup(function () {
      if (!box) {
        box = document.createElement("div");
        box.className = "popup-body";
        box.textContent = loadingText;
      }
      return box;
    }, {
      autoPan: true, autoPanPaddingTopLeft: PAN_TOP_LEFT, autoPanPaddingBottomRight: PAN_BOTTOM_RIGHT, className: "site-popup"
    });
    marker.on("popupopen", function (event) {
      var popup = event.popup;
      fitPopupWidth(popup, map);
      popup.update();
      fetch(urlTemplate.replace("/0/", "/" + siteId + "/"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) { box.innerHTML = html; })  /* server-rendered, escaped fragment */
        .catch(function () { box.textContent = "–"; })
        .then(function () { if (popup.isOpen()) { popup.update(); } });  /* new size: lay out and pan into view again */
    });
  }

  /* The count of sites and of each state, once the markers have come (the catalogue's map). */
  function showCounts(counts, total) {
    var format = new Intl.NumberFormat(document.documentElement.lang || "fi");
    var status = document.getElementById("map-count");
    if (status) {
      var text = status.getAttribute(total === 1 ? "data-one" : "data-many").replace("{n}", format.format(total));
      status.querySelector("strong").textContent = text;
    }
    document.querySelectorAll(".legend li[data-availability]").forEach(function (item) {
      var count = item.querySelector(".legend-count");
      if (count) { count.textContent = format.format(counts[item.getAttribute("data-availability")] || 0); }
    });
  }

  function drawRows(frame, map, rows) {
    var labels = { h: "" };
    var icons = { h: icon("h", HOME) };
    ["f", "x", "s"].forEach(function (kind) {
      labels[kind] = frame.getAttribute("data-label-" + kind);
      icons[kind] = icon(kind, frame.getAttribute("data-symbol-" + kind) || "");
    });
    var popupUrl = frame.getAttribute("data-popup-url");
    var loading = frame.getAttribute("data-loading");
    var markers = new Array(rows.length);
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var marker = L.marker([row[0], row[1]], { icon: icons[row[3]], title: labels[row[3]] ? row[4] + " – " + labels[row[3]] : row[4], keyboard: true, siteId: row[2] });
      if (popupUrl && row[3] !== "h") { bindPopup(marker, map, popupUrl, row[2], loading); }
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

  /* Markers come inline (a site page, the matches page) or from the address in
   * data-markers-url (the catalogue's map), which the browser keeps and revalidates by ETag. */
  function draw(frame) {
    var name = frame.getAttribute("data-map-name");
    var map = window[name];
    if (!map) { return; }
    var url = frame.getAttribute("data-markers-url");
    if (url) {
      fetch(url, { credentials: "same-origin" })  /* as the page's preload asked for it */
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          drawRows(frame, map, data.markers);
          showCounts(data.counts, data.markers.length);
        })
        .catch(function () { frame.setAttribute("data-failed", "true"); showCounts({}, 0); });
      return;
    }
    var dataElement = document.getElementById("map-data-" + name);
    if (!dataElement) { return; }
    drawRows(frame, map, JSON.parse(dataElement.textContent));
  }

  document.querySelectorAll(".map-frame").forEach(draw);
})();
