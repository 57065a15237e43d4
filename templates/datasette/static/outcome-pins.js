// The editors' map with pins by outcome. datasette-cluster-map draws every row as the same blue
// pin; on a page whose rows have an outcome, this script (served by the investigate plugin, no
// CDN) gives each pin the outcome's colour and mark, each cluster the colour of the worst
// outcome inside it, and the map a legend. Colours from the Okabe–Ito palette, which readers
// with colour-blindness tell apart; the mark and the violation's square shape say it without colour.
const OUTCOMES = {
  violation: { colour: "#D55E00", mark: "!", label: "violation" },
  inconclusive: { colour: "#6F6F6F", mark: "?", label: "inconclusive" },
  compliant: { colour: "#009E73", mark: "✓", label: "compliant" },
  not_completed: { colour: "#A9A9A9", mark: "–", label: "not completed" },
};
const WORST_FIRST = ["violation", "inconclusive", "compliant", "not_completed"];
const PIN_CSS = `
.investigate-pin { border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 2px #000; color: #fff;
  font: bold 12px/18px sans-serif; text-align: center; }
.investigate-pin.violation { border-radius: 2px; }
.investigate-cluster { border-radius: 50%; border: 3px solid #fff; box-shadow: 0 0 3px #000; color: #fff;
  font: bold 12px/30px sans-serif; text-align: center; }
.investigate-legend { background: #fff; padding: 6px 8px; border-radius: 4px; box-shadow: 0 0 4px #888;
  font: 12px/20px sans-serif; }
.investigate-legend .investigate-pin { display: inline-block; width: 18px; height: 18px; margin-right: 6px;
  vertical-align: middle; }
`;

// The outcome of a row, read from the popup datasette-cluster-map builds from it (<dt>outcome</dt><dd>…</dd>).
function outcomeOf(content) {
  const template = document.createElement("template");
  template.innerHTML = typeof content === "string" ? content : "";
  const dt = [...template.content.querySelectorAll("dt")].find((el) => el.textContent.trim() === "outcome");
  const value = dt && dt.nextElementSibling ? dt.nextElementSibling.textContent.trim() : "";
  return OUTCOMES[value] ? value : "not_completed";
}

function pin(outcome, size, text, className) {
  const style = OUTCOMES[outcome];
  return L.divIcon({
    className: `${className} ${outcome}`,
    html: `<span aria-label="${style.label}">${text}</span>`,
    iconSize: [size, size],
  });
}

function patchLeaflet() {
  const bindPopup = L.Marker.prototype.bindPopup;
  L.Marker.include({
    bindPopup(content, options) {
      this.options.outcome = outcomeOf(content);
      this.setIcon(pin(this.options.outcome, 22, OUTCOMES[this.options.outcome].mark, "investigate-pin"));
      return bindPopup.call(this, content, options);
    },
  });
  // A cluster shows how many pins it holds, in the colour of the worst outcome among them.
  L.FeatureGroup.addInitHook(function () {
    if (!("maxClusterRadius" in this.options)) return;
    this.options.iconCreateFunction = (cluster) => {
      const outcomes = new Set(cluster.getAllChildMarkers().map((m) => m.options.outcome));
      const worst = WORST_FIRST.find((o) => outcomes.has(o)) || "not_completed";
      return pin(worst, 36, cluster.getChildCount(), "investigate-cluster");
    };
  });
  L.Map.addInitHook(function () {
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = () => {
      const div = L.DomUtil.create("div", "investigate-legend");
      div.innerHTML = WORST_FIRST.map((o) =>
        `<div><span class="investigate-pin ${o}">${OUTCOMES[o].mark}</span>${OUTCOMES[o].label}</div>`
      ).join("");
      return div;
    };
    legend.addTo(this);
  });
  const style = document.createElement("style");
  style.textContent = PIN_CSS + WORST_FIRST.map((o) =>
    `.investigate-pin.${o}, .investigate-cluster.${o} { background: ${OUTCOMES[o].colour}; }`).join("\n");
  document.head.appendChild(style);
}

document.addEventListener("DOMContentLoaded", () => {
  if (window.datasette && window.datasette.leaflet) {
    // The same module datasette-cluster-map imports: patched before it draws its map.
    import(window.datasette.leaflet.JAVASCRIPT_URL).then(patchLeaflet);
  }
});
