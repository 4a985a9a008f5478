// Feeds the Train page's live view (live_training.js) with one poll's data. This element is re-sent on every poll,
// so it is kept tiny: the view's own code and markup travel once, in an element that stays the same.
const live = (globalThis.__mnistLabLiveTraining ??= { trainings: new Map(), queue: [], views: new Set() });

export default function ({ data, setTriggerValue }) {
  if (!data || typeof data.job !== "string") return;
  live.queue.push({ data, setTriggerValue });
  live.process?.();
}
