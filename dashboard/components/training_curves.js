// The loss and accuracy curves of one training, drawn as SVG side by side: the running training average within
// epochs (light line), training and validation per epoch (lines with markers), labelled axes, each value on hover.
// New points are appended to what is drawn; a panel is redrawn whole only when its value axis has to grow.
// The accuracy panel marks the gap between training and validation accuracy: a shaded band between the two curves,
// a bracket and a label "gap 11.2 points" at the last epoch, and the same in a text line under the chart (.gap-text).
// Validation lines are dashed, so training and validation differ by more than colour. Nothing here is animated.

const CURVE_SVG = "http://www.w3.org/2000/svg";
const CURVE_WIDTH = 1000, CURVE_HEIGHT = 330;
const CURVE_PANEL = { width: 500, left: 66, right: 18, top: 34, bottom: 50 };
const CURVE_METRICS = ["loss", "accuracy"];
const CURVE_SERIES = [
  { name: "running", label: "train (running)", colour: "#9ab3d5", marked: false },
  { name: "train", label: "train", colour: "#1f5fbf", marked: true },
  { name: "validation", label: "validation", colour: "#ff7f0e", marked: true },
];

function curveElement(name, attributes, parent) {
  const element = document.createElementNS(CURVE_SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  parent?.appendChild(element);
  return element;
}

// A value axis from low to high on round ticks (steps of 1, 2, 2.5 or 5 times a power of ten, about 5 ticks).
function niceRange(low, high) {
  if (!(high > low)) [low, high] = [low - (Math.abs(low) * 0.1 || 0.1), high + (Math.abs(high) * 0.1 || 0.1)];
  const padding = 0.02 * (high - low);
  const rough = (high - low + 2 * padding) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((multiple) => multiple * magnitude).find((candidate) => candidate >= rough);
  return { low: Math.floor((low - padding) / step) * step, high: Math.ceil((high + padding) / step) * step, step };
}

// How many decimals the ticks of a step need (0.25 → 2, 0.5 → 1, 2 → 0).
function decimalsOf(step) {
  let decimals = 0;
  while (decimals < 6 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals += 1;
  return decimals;
}

// Percent with one decimal, as shown; the gap is the difference of the shown figures, so the text adds up.
const shownPercent = (fraction) => Math.round(1000 * fraction) / 10;
function gapPoints(training, validation) {
  const gap = Math.round(10 * (shownPercent(training) - shownPercent(validation))) / 10;
  return Object.is(gap, -0) ? 0 : gap;
}
const gapText = (gap) => `gap ${gap < 0 ? "−" : ""}${Math.abs(gap).toFixed(1)} points`;

// The text line under the chart, from the last epoch record [epoch, loss, accuracy, val_loss, val_accuracy].
function gapSentence(record) {
  if (!record || record[2] === null) return "";
  const [epoch, , accuracy, , validation] = record;
  if (validation === null) return `Epoch ${epoch}: training ${shownPercent(accuracy).toFixed(1)}%; no validation ` +
    "figure, so no gap to show.";
  return `Epoch ${epoch}: training ${shownPercent(accuracy).toFixed(1)}%, validation ` +
    `${shownPercent(validation).toFixed(1)}%, ${gapText(gapPoints(accuracy, validation))}.`;
}

function createTrainingCurves(svg, legend, tooltip) {
  const gapLine = svg.parentElement?.querySelector(".gap-text");
  const curves = { epochs: 0, stored: null, generation: 0, pointsDrawn: 0, recordsDrawn: -1, panels: [] };
  let hovered = null;

  function buildPanel(index) {
    const offset = index * CURVE_PANEL.width;
    const x0 = offset + CURVE_PANEL.left, x1 = offset + CURVE_PANEL.width - CURVE_PANEL.right;
    const y0 = CURVE_PANEL.top, y1 = CURVE_HEIGHT - CURVE_PANEL.bottom;
    const group = curveElement("g", { class: `panel ${CURVE_METRICS[index]}` }, svg);
    curveElement("text", { x: (x0 + x1) / 2, y: 20, "text-anchor": "middle", "font-size": 17, "font-weight": 600 },
      group).textContent = CURVE_METRICS[index];
    const grid = curveElement("g", { class: "grid" }, group);
    const axis = curveElement("g", { class: "axis" }, group);
    curveElement("text", { x: (x0 + x1) / 2, y: CURVE_HEIGHT - 8, "text-anchor": "middle", "font-size": 13 },
      group).textContent = "epoch";
    curveElement("text", { transform: `translate(${offset + 16} ${(y0 + y1) / 2}) rotate(-90)`,
      "text-anchor": "middle", "font-size": 13 }, group).textContent = CURVE_METRICS[index];
    const lines = {}, markers = {};
    const gap = CURVE_METRICS[index] === "accuracy" ? {
      band: curveElement("polygon", { class: "gap-band", points: "" }, group),
      bracket: curveElement("line", { class: "gap-bracket", visibility: "hidden" }, group),
    } : null;
    for (const series of CURVE_SERIES) {
      lines[series.name] = curveElement("polyline", { class: series.name, points: "" }, group);
      if (series.marked) markers[series.name] = curveElement("g", { class: `markers ${series.name}` }, group);
    }
    if (gap) gap.label = curveElement("text", { class: "gap-label", "text-anchor": "end", "font-size": 13,
      "font-weight": 600, visibility: "hidden" }, group); // over the curves
    const highlight = curveElement("circle", { class: "highlight", r: 6, visibility: "hidden" }, group);
    const target = curveElement("rect", { class: "hover-target", x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
      group);
    const panel = { index, x0, x1, y0, y1, grid, axis, lines, markers, gap, highlight, range: null, low: Infinity,
      high: -Infinity };
    target.addEventListener("mousemove", (event) => hover(panel, event));
    target.addEventListener("mouseleave", () => unhover(panel));
    return panel;
  }

  const xOf = (panel, epoch) => panel.x0 + (panel.x1 - panel.x0) * epoch / Math.max(curves.epochs, 1);
  const yOf = (panel, value) =>
    panel.y1 - (panel.y1 - panel.y0) * (value - panel.range.low) / (panel.range.high - panel.range.low);

  function drawAxes(panel) {
    const { x0, x1, y0, y1, range } = panel;
    panel.grid.replaceChildren();
    panel.axis.replaceChildren();
    const decimals = decimalsOf(range.step);
    for (let k = 0; k <= Math.round((range.high - range.low) / range.step); k++) {
      const tick = range.low + k * range.step, y = yOf(panel, tick);
      curveElement("line", { x1: x0, x2: x1, y1: y, y2: y }, panel.grid);
      curveElement("text", { x: x0 - 6, y: y + 4, "text-anchor": "end", "font-size": 12 }, panel.axis).textContent =
        tick.toFixed(decimals);
    }
    curveElement("line", { x1: x0, x2: x0, y1: y0, y2: y1 }, panel.axis);
    curveElement("line", { x1: x0, x2: x1, y1: y1, y2: y1 }, panel.axis);
    const every = Math.max(1, Math.ceil(curves.epochs / 10));
    for (let epoch = 0; epoch <= curves.epochs; epoch += every) {
      curveElement("text", { x: xOf(panel, epoch), y: y1 + 18, "text-anchor": "middle", "font-size": 12 },
        panel.axis).textContent = String(epoch);
    }
  }

  // The (x, value) pairs each series of a panel shows, from running points [step, loss, accuracy] and epoch records
  // [epoch, loss, accuracy, val_loss, val_accuracy]; a null value (no validation split, or not a number) is left out.
  function seriesValues(name, index, stored, from = 0) {
    const [rows, column] = name === "running" ? [stored.points.slice(from), 1 + index]
      : [stored.records, name === "train" ? 1 + index : 3 + index];
    return rows.filter((row) => row[column] !== null).map((row) => [row[0], row[column]]);
  }

  function appendPoints(panel, line, pairs) {
    for (const [x, value] of pairs) {
      const point = svg.createSVGPoint();
      point.x = xOf(panel, x);
      point.y = yOf(panel, value);
      line.points.appendItem(point);
    }
  }

  function drawRecords(panel, stored) {
    for (const name of ["train", "validation"]) {
      const pairs = seriesValues(name, panel.index, stored);
      panel.lines[name].setAttribute("points", pairs.map(([x, v]) => `${xOf(panel, x)},${yOf(panel, v)}`).join(" "));
      panel.markers[name].replaceChildren(...pairs.map(([x, v]) =>
        curveElement("circle", { class: name, cx: xOf(panel, x), cy: yOf(panel, v), r: 4.5 })));
    }
    if (panel.gap) drawGap(panel, stored);
  }

  // The band between training and validation accuracy over the epochs that have both, and at the last of them a
  // bracket and the gap in points.
  function drawGap(panel, stored) {
    const both = stored.records.filter((record) => record[2] !== null && record[4] !== null);
    const { band, bracket, label } = panel.gap;
    const corner = ([epoch, , , , validation], value) => `${xOf(panel, epoch)},${yOf(panel, value)}`;
    band.setAttribute("points", [...both.map((record) => corner(record, record[2])),
      ...both.toReversed().map((record) => corner(record, record[4]))].join(" "));
    const last = both.at(-1);
    for (const element of [bracket, label]) element.setAttribute("visibility", last ? "visible" : "hidden");
    if (!last) return;
    const x = xOf(panel, last[0]), yTraining = yOf(panel, last[2]), yValidation = yOf(panel, last[4]);
    Object.entries({ x1: x, x2: x, y1: yTraining, y2: yValidation }).forEach(([key, value]) =>
      bracket.setAttribute(key, value));
    // Left of the last epoch: between the two curves when they are apart, else above them (below them when there
    // is no room above); inside the plot.
    const [upper, lower] = [Math.min(yTraining, yValidation), Math.max(yTraining, yValidation)];
    const y = lower - upper > 24 ? (upper + lower) / 2 + 4 : upper - 12 >= panel.y0 + 14 ? upper - 12 : lower + 20;
    label.setAttribute("x", Math.max(x - 14, panel.x0 + 100));
    label.setAttribute("y", Math.min(y, panel.y1 - 6));
    label.textContent = gapText(gapPoints(last[2], last[4]));
  }

  function drawLegend(stored) {
    const validation = stored.records.some((record) => record[3] !== null);
    legend.replaceChildren(...CURVE_SERIES.filter((series) => series.name !== "validation" || validation)
      .map((series) => {
        const key = document.createElement("span");
        key.className = `key ${series.name}${series.marked ? " marked" : ""}`;
        key.style.setProperty("--colour", series.colour);
        key.textContent = series.label;
        return key;
      }), ...(validation ? [Object.assign(document.createElement("span"), { className: "key gap",
      textContent: "gap: training − validation accuracy" })] : []));
  }

  // Draw what the store holds and is not drawn yet; redraw a panel whose values left its axis.
  curves.sync = (stored, epochs) => {
    if (stored !== curves.stored || epochs !== curves.epochs || stored.generation !== curves.generation) {
      svg.replaceChildren();
      Object.assign(curves, { stored, epochs, generation: stored.generation, pointsDrawn: 0, recordsDrawn: -1 });
      curves.panels = CURVE_METRICS.map((_, index) => buildPanel(index));
    }
    const recordsChanged = stored.recordsVersion !== curves.recordsDrawn;
    for (const panel of curves.panels) {
      const fresh = [...seriesValues("running", panel.index, stored, curves.pointsDrawn),
        ...(recordsChanged ? [...seriesValues("train", panel.index, stored),
          ...seriesValues("validation", panel.index, stored)] : [])];
      for (const [, value] of fresh) {
        panel.low = Math.min(panel.low, value);
        panel.high = Math.max(panel.high, value);
      }
      const outside = !panel.range || panel.low < panel.range.low || panel.high > panel.range.high;
      if (outside && Number.isFinite(panel.low)) {
        panel.range = niceRange(panel.low, panel.high);
        drawAxes(panel);
        panel.lines.running.setAttribute("points", "");
        appendPoints(panel, panel.lines.running, seriesValues("running", panel.index, stored));
        drawRecords(panel, stored);
      } else if (panel.range) {
        appendPoints(panel, panel.lines.running, seriesValues("running", panel.index, stored, curves.pointsDrawn));
        if (recordsChanged) drawRecords(panel, stored);
      }
    }
    if (recordsChanged) {
      drawLegend(stored);
      if (gapLine) gapLine.textContent = gapSentence(stored.records.at(-1));
    }
    curves.pointsDrawn = stored.points.length;
    curves.recordsDrawn = stored.recordsVersion;
    svg.dataset.points = String(stored.points.length);
    svg.dataset.epochs = String(stored.records.length);
    if (hovered) unhover(hovered);
  };

  // ## Hover: the nearest point's series, position and value

  function hover(panel, event) {
    const stored = curves.stored;
    if (!stored || !panel.range) return;
    const mouse = new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
    let best = null;
    for (const series of CURVE_SERIES) {
      for (const [x, value] of seriesValues(series.name, panel.index, stored)) {
        const distance = Math.hypot(xOf(panel, x) - mouse.x, yOf(panel, value) - mouse.y);
        if (!best || distance < best.distance) best = { series, x, value, distance };
      }
    }
    if (!best) return;
    hovered = panel;
    const cx = xOf(panel, best.x), cy = yOf(panel, best.value);
    Object.entries({ cx, cy, visibility: "visible" }).forEach(([key, value]) => panel.highlight.setAttribute(key, value));
    const where = best.series.name === "running" ? `after ${best.x.toFixed(2)} epochs` : `epoch ${best.x}`;
    tooltip.textContent = `${best.series.label}, ${where}: ${CURVE_METRICS[panel.index]} ${best.value.toFixed(4)}`;
    const screen = new DOMPoint(cx, cy).matrixTransform(svg.getScreenCTM());
    const box = tooltip.parentElement.getBoundingClientRect();
    tooltip.style.left = `${screen.x - box.left}px`;
    tooltip.style.top = `${screen.y - box.top}px`;
    tooltip.hidden = false;
  }

  function unhover(panel) {
    hovered = null;
    panel.highlight.setAttribute("visibility", "hidden");
    tooltip.hidden = true;
  }

  return curves;
}
