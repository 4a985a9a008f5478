// The Predict page's test-image browser, drawn entirely in the browser from one payload (browse_payload.js reads
// it, probability_chart.js draws the histogram; the three files are one module). Next, Previous, Random, the index
// box, the arrow keys, the filters and the epoch slider redraw at once; the server is told the view afterwards
// (state "view"), or told through the trigger "failed" that the payload cannot be read, so the page can fall back.

const REPORT_DELAY_MS = 500; // a burst of clicks (a person clicks Next 2–5 times a second) is reported once
const PLAY_STEP_MS = 700; // one epoch per step when the epochs are played
// When the student's system asks for reduced motion, Play still steps (it is what the button is for) but at one
// epoch every 2.5 s, a slideshow rather than an animation, and a note says so; the slider steps by hand.
const REDUCED_PLAY_STEP_MS = 2500;
const reducedMotion = globalThis.matchMedia?.("(prefers-reduced-motion: reduce)");
const registry = (globalThis.__mnistLabImageBrowsers ??= { browsers: new Map(), pending: new Map(), timers: new Map() });

const count = (n) => n.toLocaleString("en-US"); // 10,000 as Python's f"{n:,}"
const percent = (p, digits) => `${(100 * p).toFixed(digits)}%`; // as Python's f"{p:.1%}"

function strong(text) {
  const element = document.createElement("strong");
  element.textContent = text;
  return element;
}

function createBrowser(root) {
  const $ = (selector) => root.querySelector(selector);
  const parts = {
    status: $(".status"), controls: $(".controls"), trueClass: $(".true-class"), result: $(".result"),
    matches: $(".matches"), noMatch: $(".no-match"), index: $(".index-input"), previous: $(".previous"),
    next: $(".next"), random: $(".random"), canvas: $(".image"), imageCaption: $(".image-caption"),
    predicted: $(".predicted"), detail: $(".detail"), epochRow: $(".epoch-row"), epochHelp: $(".epoch-help"),
    epoch: $(".epoch-input"), epochValue: $(".epoch-value"), play: $(".play"), chart: $(".chart"),
    reducedNote: $(".reduced-motion"),
    tooltip: $(".tooltip"),
  };
  const browser = {
    payloadId: null, header: null, arrays: null, view: null, ready: false,
    touched: false, // the student moved here: later views from the server are echoes and are ignored
    matching: [], accuracy: [], chart: null, playTimer: null, reportTimer: null, lastReport: "",
    setStateValue: null, setTriggerValue: null,
  };

  // ## Loading

  browser.load = (bytes) => {
    let parsed;
    try {
      parsed = readPayloadHeader(bytes);
    } catch (error) {
      fail(error);
      return;
    }
    const { header, start } = parsed;
    if (header.id === browser.payloadId) return; // the same payload again: keep the view
    stopPlaying({ report: false });
    registry.browsers.delete(browser.payloadId);
    Object.assign(browser, { payloadId: header.id, header, arrays: null, ready: false, touched: false });
    registry.browsers.set(header.id, browser);
    const size = bytes.length < 1e6 ? `${Math.round(bytes.length / 1e3)} kB` : `${(bytes.length / 1e6).toFixed(1)} MB`;
    parts.status.textContent = `Loading ${count(header.images)} test images into this page (${size})…`;
    readPayloadBody(bytes, header, start).then((arrays) => {
      if (browser.payloadId !== header.id) return;
      browser.arrays = arrays;
      prepare();
      browser.view = viewFrom(registry.pending.get(header.id) ?? {});
      browser.ready = true;
      parts.status.hidden = true;
      parts.controls.hidden = false;
      refilter();
      draw();
    }).catch(fail);
  };

  function fail(error) {
    const reason = String(error?.message ?? error);
    parts.status.textContent = `Your browser could not show the test images here: ${reason}. ` +
      "The page switches to browsing through the server.";
    parts.status.classList.add("failed");
    parts.status.hidden = false;
    parts.controls.hidden = true;
    browser.setTriggerValue?.("failed", reason);
  }

  // A view from the server, each value checked (the defaults: image 0, the last epoch, no filter).
  function viewFrom(server) {
    const { images, epochs, classes } = browser.header;
    const whole = (value, low, high, fallback) =>
      Number.isInteger(value) && value >= low && value <= high ? value : fallback;
    return {
      image: whole(server.image, 0, images - 1, 0),
      epoch: whole(server.epoch, 1, epochs, epochs),
      true_class: whole(server.true_class, 0, classes - 1, null),
      result: ["all", "right", "wrong"].includes(server.result) ? server.result : "all",
    };
  }

  browser.serverView = (server) => {
    if (browser.touched || !browser.ready) return;
    browser.view = viewFrom(server);
    refilter();
    draw();
  };

  // What stays while browsing: the class list, the accuracy after each epoch, the chart's axes and bars.
  function prepare() {
    const { header, arrays } = browser;
    const { images, epochs, class_names: names } = header;
    parts.trueClass.replaceChildren(new Option("any", ""), ...names.map((name, k) => new Option(name, String(k))));
    parts.index.max = String(images - 1);
    parts.epoch.max = String(epochs);
    parts.epochRow.hidden = parts.epochHelp.hidden = epochs < 2;
    showMotionNote();
    parts.canvas.width = header.width;
    parts.canvas.height = header.height;
    browser.accuracy = Array.from({ length: epochs }, (_, epoch) => {
      let right = 0;
      for (let i = 0; i < images; i++) right += arrays.predicted[epoch * images + i] === arrays.labels[i];
      return images ? right / images : 0;
    });
    browser.chart = createProbabilityChart(parts.chart, parts.tooltip, names);
  }

  // ## Moving through the images

  const predictedAt = (epoch, index) => browser.arrays.predicted[(epoch - 1) * browser.header.images + index];

  function refilter() {
    const { view, arrays, header } = browser;
    browser.matching = [];
    for (let i = 0; i < header.images; i++) {
      if (view.true_class !== null && arrays.labels[i] !== view.true_class) continue;
      const right = predictedAt(view.epoch, i) === arrays.labels[i];
      if (view.result === "all" || right === (view.result === "right")) browser.matching.push(i);
    }
  }

  // Next (+1) and Previous (-1) move to the next matching image, wrapping around; 0 picks one at random.
  function step(direction) {
    const { matching, view } = browser;
    if (matching.length === 0) return;
    if (direction === 0) view.image = matching[Math.floor(Math.random() * matching.length)];
    else if (direction > 0) view.image = matching.find((i) => i > view.image) ?? matching[0];
    else view.image = matching.findLast((i) => i < view.image) ?? matching[matching.length - 1];
    changed();
  }

  function changed({ filters = false, report = true } = {}) {
    browser.touched = true;
    if (filters) refilter();
    draw();
    if (report) scheduleReport();
  }

  function scheduleReport() {
    clearTimeout(browser.reportTimer);
    browser.reportTimer = setTimeout(() => {
      const text = JSON.stringify(browser.view);
      if (text === browser.lastReport) return;
      browser.lastReport = text;
      browser.setStateValue?.("view", { ...browser.view });
    }, REPORT_DELAY_MS);
  }

  // ## Drawing

  function draw() {
    const { view, header, arrays } = browser;
    const { images, classes, class_names: names, width, height } = header;
    const index = view.image;
    parts.trueClass.value = view.true_class === null ? "" : String(view.true_class);
    for (const radio of parts.result.querySelectorAll("input")) radio.checked = radio.value === view.result;
    if (root.getRootNode().activeElement !== parts.index) parts.index.value = String(index);
    parts.epoch.value = String(view.epoch);
    parts.epochValue.textContent = String(view.epoch);
    parts.matches.textContent = `${count(browser.matching.length)} of ${count(images)} test images match; accuracy ` +
      `on the whole test set after epoch ${view.epoch}: ${percent(browser.accuracy[view.epoch - 1], 2)}.`;
    parts.noMatch.hidden = browser.matching.length > 0;

    const pixels = new ImageData(width, height);
    const image = arrays.images.subarray(index * width * height, (index + 1) * width * height);
    for (let p = 0; p < image.length; p++) {
      pixels.data[4 * p] = pixels.data[4 * p + 1] = pixels.data[4 * p + 2] = image[p];
      pixels.data[4 * p + 3] = 255;
    }
    parts.canvas.getContext("2d").putImageData(pixels, 0, 0);
    parts.imageCaption.textContent = `x_test[${index}] — what the model sees`;

    const row = ((view.epoch - 1) * images + index) * classes;
    const probabilities = Array.from(arrays.probabilities.subarray(row, row + classes), (value) => value / 65535);
    const guess = predictedAt(view.epoch, index), truth = arrays.labels[index];
    parts.predicted.textContent = `Predicted: ${names[guess]}`;
    parts.detail.replaceChildren("confidence ", strong(percent(probabilities[guess], 1)), " · true label ",
      strong(names[truth]), ` · ${guess === truth ? "right ✅" : "wrong ❌"}`);
    // A screen reader's text for the picture, following it as the student browses.
    parts.canvas.setAttribute("aria-label", `Test image ${index} of ${count(images)}: true ${names[truth]}, ` +
      `predicted ${names[guess]}, ${percent(probabilities[guess], 1)} confident`);
    browser.chart.draw(probabilities, guess, truth, view.epoch);
  }

  // ## Playing the epochs as an animation

  function stopPlaying({ report = true } = {}) {
    if (browser.playTimer === null) return;
    clearInterval(browser.playTimer);
    browser.playTimer = null;
    parts.play.textContent = "▶ Play";
    if (report) scheduleReport();
  }

  function play() {
    if (browser.playTimer !== null) return stopPlaying();
    const { view, header } = browser;
    if (view.epoch >= header.epochs) view.epoch = 1;
    changed({ filters: view.result !== "all", report: false });
    parts.play.textContent = "⏸ Pause";
    browser.playTimer = setInterval(() => {
      if (view.epoch >= header.epochs) return stopPlaying();
      view.epoch += 1;
      changed({ filters: view.result !== "all", report: false });
    }, reducedMotion?.matches ? REDUCED_PLAY_STEP_MS : PLAY_STEP_MS);
  }

  function showMotionNote() {
    parts.reducedNote.hidden = !reducedMotion?.matches || parts.epochRow.hidden;
  }

  // ## Controls

  function typedIndex() {
    const value = Math.round(Number(parts.index.value));
    if (parts.index.value !== "" && Number.isFinite(value)) {
      browser.view.image = Math.min(Math.max(value, 0), browser.header.images - 1);
    }
    parts.index.value = String(browser.view.image);
    changed();
  }

  function arrowKey(event) {
    if (!browser.ready || !root.isConnected || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const target = event.composedPath()[0]; // inside a shadow root too: text boxes and sliders keep their arrows
    if (target instanceof Element && target.closest('input, select, textarea, [contenteditable], [role="slider"], ' +
      '[role="textbox"], [role="combobox"], [role="listbox"], [role="radiogroup"]')) return;
    event.preventDefault();
    step(event.key === "ArrowRight" ? 1 : -1);
  }

  const listeners = [
    [parts.next, "click", () => step(1)],
    [parts.previous, "click", () => step(-1)],
    [parts.random, "click", () => step(0)],
    [parts.play, "click", play],
    [parts.index, "change", typedIndex],
    [parts.trueClass, "change", () => {
      browser.view.true_class = parts.trueClass.value === "" ? null : Number(parts.trueClass.value);
      changed({ filters: true });
    }],
    [parts.result, "change", (event) => {
      browser.view.result = event.target.value;
      changed({ filters: true });
    }],
    [parts.epoch, "input", () => {
      stopPlaying();
      browser.view.epoch = Number(parts.epoch.value);
      changed({ filters: browser.view.result !== "all" });
    }],
    [document, "keydown", arrowKey],
    ...(reducedMotion ? [[reducedMotion, "change", showMotionNote]] : []),
  ];
  for (const [target, type, listener] of listeners) target.addEventListener(type, listener);

  browser.destroy = () => {
    stopPlaying({ report: false });
    clearTimeout(browser.reportTimer);
    for (const [target, type, listener] of listeners) target.removeEventListener(type, listener);
    registry.browsers.delete(browser.payloadId);
    delete root.__browser;
  };
  return browser;
}

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  const root = parentElement.querySelector(".image-browser");
  const browser = (root.__browser ??= createBrowser(root));
  Object.assign(browser, { setStateValue, setTriggerValue });
  browser.load(data);
  return () => browser.destroy();
}
