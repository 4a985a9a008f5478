// The probability histogram, drawn as SVG: one bar per class (predicted red, true blue, others grey), the y axis
// in %, the class names as ticks with each bar's role above it in words ("predicted ✓", "predicted ✗", "true"),
// each bar's value on hover and in its aria-label.

// As mnistlib.plots: the tutorial's red and blue, its grey darkened to 4.5:1 on white (#9e9e9e was 2.7:1).
const CHART_COLOURS = { predicted: "#d62728", truth: "#1f5fbf", other: "#767676" };
const SVG_NAMESPACE = "http://www.w3.org/2000/svg";

function svgElement(name, attributes = {}, parent = null) {
  const element = document.createElementNS(SVG_NAMESPACE, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  parent?.appendChild(element);
  return element;
}

function createProbabilityChart(chart, tooltip, names) {
  const width = 640, left = 52, right = 8, top = 44, highest = 1.12; // room above 100% for the values
  const longest = Math.max(...names.map((name) => name.length));
  const band = (width - left - right) / names.length;
  const rotate = longest * 8 > band; // long or many names: slanted ticks
  const bottom = rotate ? 24 + Math.min(longest, 14) * 6 : 36;
  const height = 284 + bottom;
  const plotHeight = height - top - bottom;
  const y = (value) => top + plotHeight * (1 - Math.min(value, highest) / highest);
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  chart.replaceChildren();
  const title = svgElement("text", { x: left, y: 18, "font-size": 17, "font-weight": 600 }, chart);
  svgElement("text", { x: width - right, y: 38, "text-anchor": "end", "font-size": 12, opacity: 0.7 },
    chart).textContent = "red: predicted · blue: true label (blue when they agree)";
  const grid = svgElement("g", { class: "grid" }, chart);
  for (let tick = 0; tick <= 100; tick += 20) {
    svgElement("line", { x1: left, x2: width - right, y1: y(tick / 100), y2: y(tick / 100) }, grid);
    svgElement("text", { x: left - 6, y: y(tick / 100) + 4, "text-anchor": "end", "font-size": 12 },
      chart).textContent = `${tick}%`;
  }
  svgElement("text", { transform: `translate(14 ${top + plotHeight / 2}) rotate(-90)`, "text-anchor": "middle",
    "font-size": 12 }, chart).textContent = "probability";
  const groups = ["bars", "values", "ticks", "hover-targets"].map((name) => svgElement("g", { class: name }, chart));
  let shown = [], hovered = null;

  function showTooltip(k) {
    hovered = k;
    const box = chart.getBoundingClientRect();
    const scale = box.width / width;
    tooltip.textContent = `${names[k]}: ${shown[k].toFixed(3)}`;
    tooltip.style.left = `${(left + band * (k + 0.5)) * scale}px`;
    tooltip.style.top = `${box.top - chart.parentElement.getBoundingClientRect().top + y(shown[k]) * scale}px`;
    tooltip.hidden = false;
  }

  const bars = names.map((name, k) => {
    const x = left + band * k, centre = x + band / 2;
    const tick = svgElement("text", { x: centre, y: height - bottom + 16, "font-size": 13,
      "text-anchor": rotate ? "end" : "middle" }, groups[2]);
    if (rotate) tick.setAttribute("transform", `rotate(-40 ${centre} ${height - bottom + 12})`);
    tick.textContent = name;
    // The bar's role in words, above its value (names may be slanted below: no room there).
    const role = svgElement("text", { x: centre, "font-size": 12, "font-weight": 600, "text-anchor": "middle",
      class: "role" }, groups[1]);
    const target = svgElement("rect", { class: "hover-target", x, y: top, width: band, height: plotHeight }, groups[3]);
    target.addEventListener("mousemove", () => showTooltip(k));
    target.addEventListener("mouseleave", () => { hovered = null; tooltip.hidden = true; });
    return { bar: svgElement("path", { "data-class": k, role: "img" }, groups[0]), role,
      value: svgElement("text", { x: centre, "text-anchor": "middle", "font-size": 12 }, groups[1]),
      x: x + band * 0.1, width: band * 0.8 };
  });

  return {
    draw(probabilities, guess, truth, epoch) {
      shown = probabilities;
      title.textContent = `Probabilities after epoch ${epoch}`;
      bars.forEach(({ bar, role, value, x, width: barWidth }, k) => {
        const p = probabilities[k];
        bar.setAttribute("d", `M${x},${y(0)}V${y(p)}H${x + barWidth}V${y(0)}Z`);
        bar.setAttribute("fill", k === truth ? CHART_COLOURS.truth : k === guess ? CHART_COLOURS.predicted
          : CHART_COLOURS.other);
        const words = k === guess ? `predicted ${guess === truth ? "✓" : "✗"}` : k === truth ? "true" : "";
        role.textContent = words;
        role.setAttribute("y", y(p) - (p >= 0.01 ? 18 : 4));
        bar.setAttribute("aria-label", `${names[k]}: ${p.toFixed(3)}`);  // its role: the text above it
        bar.dataset.probability = String(p);
        value.setAttribute("y", y(p) - 4);
        value.textContent = p >= 0.01 ? `${(100 * p).toFixed(0)}%` : "";
      });
      if (hovered !== null) showTooltip(hovered);
    },
  };
}
