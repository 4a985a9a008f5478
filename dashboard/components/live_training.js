// The Train page's live view of one training: its status, a progress bar and the loss and accuracy curves
// (training_curves.js; the two files are one module), all drawn in the browser. The view's element stays the same
// while the job runs; each poll of the server comes through a tiny feed element (live_training_feed.js) carrying
// only what is new — the points after those sent before — which is appended here. The points are kept per job for
// this tab (the curves come back at once if the view is mounted again); if a message was missed (a gap), the feed's
// trigger "resend" asks the server for everything after what this tab has.

const KEPT_JOBS = 4;
const ASK_AGAIN_MS = 1000;
const ASK_AGAIN_TIMES = 10;
// trainings: job id -> { points, records, generation (+1 when points were sent again), recordsVersion (+1 per
// change), latest (the last poll's status and progress) }; queue: polls not merged yet; views: the mounted views.
const live = (globalThis.__mnistLabLiveTraining ??= { trainings: new Map(), queue: [], views: new Set() });

// Put items at position `from` of list. A job's points and records only grow, so what the list has already is kept
// (a message sent twice, or late, changes nothing) unless an item differs. Returns "gap" if from is past the end
// (nothing changed), "rewritten" if an item differed (the list now ends with items), "appended" if the list only
// grew, else "".
function merge(list, from, items) {
  if (from > list.length) return "gap";
  const same = (a, b) => a.length === b.length && a.every((value, index) => value === b[index]);
  if (items.some((item, index) => from + index < list.length && !same(item, list[from + index]))) {
    list.length = from;
    for (const item of items) list.push(item);
    return "rewritten";
  }
  const before = list.length;
  for (let index = before - from; index < items.length; index += 1) list.push(items[index]);
  return list.length > before ? "appended" : "";
}

function training(job) {
  let found = live.trainings.get(job);
  if (!found) {
    found = { points: [], records: [], generation: 0, recordsVersion: 0, latest: null, gap: false, asked: "",
              askedAt: 0, asks: 0, retries: 0, recheck: null, setTriggerValue: null };
    live.trainings.delete(job);
    live.trainings.set(job, found);
    while (live.trainings.size > KEPT_JOBS) live.trainings.delete(live.trainings.keys().next().value);
  }
  return found;
}

// Fold one poll into its job's points and records; ask for a resend when it does not follow on.
function fold({ data, setTriggerValue }) {
  const kept = training(data.job);
  const points = merge(kept.points, data.points_from, data.points);
  const records = merge(kept.records, data.records_from, data.records);
  if (points === "rewritten") kept.generation += 1; // the curves are drawn again from the start
  if (records === "rewritten" || records === "appended") kept.recordsVersion += 1;
  kept.latest = data;
  kept.gap = points === "gap" || records === "gap";
  if (setTriggerValue) kept.setTriggerValue = setTriggerValue;
  if (kept.gap) ask(data.job, kept);
}

// Ask the server for everything after what this tab has: once per gap, and again every second while the gap is
// still there (an answer can be lost, e.g. when a rerun of the page starts before it was sent, and an ended job
// sends no further polls that would show the gap), a few times at most. Each ask is numbered, so two asks for the
// same points are two requests.
function ask(job, kept) {
  const wanted = JSON.stringify([kept.points.length, kept.records.length]);
  const now = Date.now();
  if (wanted !== kept.asked) kept.retries = 0;
  else if (now - kept.askedAt < ASK_AGAIN_MS - 50 || kept.retries >= ASK_AGAIN_TIMES) return;
  else kept.retries += 1;
  kept.asked = wanted;
  kept.askedAt = now;
  kept.asks += 1;
  kept.setTriggerValue?.("resend", { job, points: kept.points.length, records: kept.records.length, ask: kept.asks });
  clearTimeout(kept.recheck);
  kept.recheck = setTimeout(() => { // merged by now if the answer came; else ask again
    kept.recheck = null;
    if (kept.gap && live.trainings.get(job) === kept) ask(job, kept);
  }, ASK_AGAIN_MS);
}

live.process = () => {
  const changed = new Set();
  for (const entry of live.queue.splice(0)) {
    fold(entry);
    changed.add(entry.data.job);
  }
  for (const view of live.views) if (changed.has(view.job)) view.render();
};

// What a screen reader announces when an epoch ends: a record [epoch, loss, accuracy, val_loss, val_accuracy].
function epochSentence([epoch, loss, accuracy, valLoss, valAccuracy], epochs) {
  const number = (value, say) => (value === null ? "not a number" : say(value));
  const lossText = (value) => number(value, (v) => v.toFixed(4));
  const accuracyText = (value) => number(value, (v) => `${(100 * v).toFixed(1)}%`);
  let text = `Epoch ${epoch} of ${epochs} finished: loss ${lossText(loss)}, accuracy ${accuracyText(accuracy)}`;
  if (valLoss !== null || valAccuracy !== null) {
    text += `; validation loss ${lossText(valLoss)}, validation accuracy ${accuracyText(valAccuracy)}`;
  }
  return `${text}.`;
}

function createLiveTraining(root) {
  const $ = (selector) => root.querySelector(selector);
  const parts = { status: $(".status"), progress: $(".progress"), bar: $(".progress .bar"),
    progressText: $(".progress-text"), curves: $(".curves"), announce: $(".announce") };
  const chart = createTrainingCurves($(".chart"), $(".legend"), $(".tooltip"));
  const view = { job: null, announced: null };

  view.render = () => {
    const kept = live.trainings.get(view.job);
    const latest = kept?.latest;
    if (!latest) return;
    parts.status.textContent = latest.status_text;
    parts.status.hidden = !latest.status_text;
    const percent = Math.round(1000 * Math.min(Math.max(latest.fraction, 0), 1)) / 10;
    parts.bar.style.width = `${percent}%`;
    parts.progress.setAttribute("aria-valuenow", String(percent));
    parts.progressText.textContent = latest.progress_text;
    const record = kept.records.at(-1); // announced once per finished epoch, not on every poll
    if (record && `${view.job}:${record[0]}` !== view.announced) {
      view.announced = `${view.job}:${record[0]}`;
      parts.announce.textContent = epochSentence(record, latest.epochs);
    }
    const shown = latest.curves && (kept.points.length > 0 || kept.records.length > 0);
    parts.curves.hidden = !shown;
    if (shown) chart.sync(kept, latest.epochs);
  };

  view.show = (job) => {
    view.job = job;
    live.views.add(view);
    live.process(); // polls that arrived before this view was mounted
    view.render();
  };
  view.destroy = () => {
    live.views.delete(view);
    delete root.__view;
  };
  return view;
}

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".live-training");
  if (!root || !data || typeof data.job !== "string") return undefined;
  const view = (root.__view ??= createLiveTraining(root));
  view.show(data.job);
  return () => view.destroy();
}
