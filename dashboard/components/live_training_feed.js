// Feeds the Train page's live view (live_training.js) with one run's data; while the job runs, the view polls the
// job's progress route itself (live_training_poll.js). Kept tiny: the view's code and markup travel once.
const live = (globalThis.__mnistLabLiveTraining ??= { trainings: new Map(), queue: [], views: new Set() });

export default function ({ data, setTriggerValue }) {
  if (!data || typeof data.job !== "string") return undefined;
  live.queue.push({ data, setTriggerValue });
  live.process?.();
  return () => live.unfollow?.(data.job); // the page moved on (another page, another job): no more polls
}
