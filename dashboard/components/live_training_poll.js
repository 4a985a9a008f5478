// The Train page's live view, last of its three files (one module with training_curves.js and live_training.js):
// while the job runs, poll its progress route (data.poll_url, dashboard/routes.py) twice a second for the points and
// records after those this tab has, and fold them into the view as the feed's messages are: no rerun of the page.
// When the route says the job ended, the trigger "ended" reruns the page's job part once (to show the results). A
// browser the route refuses (403: e.g. a school-account login it cannot read) asks for reruns instead ("poll"), as
// the page did before the route. The feed (live_training_feed.js) stays tiny: it only hands its message over.
live.pollers ??= new Map(); // job id -> { url, curves, setTriggerValue, timer, stopped, fallback }

const POLL_MS = 500;
const RETRY_MS = 2000; // a failed request (server restarting, network) is tried again after this
const ENDED = ["finished", "stopped", "failed"];

function have(job) {
  const kept = live.trainings.get(job);
  return { points: kept ? kept.points.length : 0, records: kept ? kept.records.length : 0 };
}

function stop(job) {
  const poller = live.pollers.get(job);
  if (!poller) return;
  poller.stopped = true;
  clearTimeout(poller.timer);
  live.pollers.delete(job);
}

async function poll(job, poller) {
  if (poller.stopped) return;
  if (poller.fallback) {
    poller.asks = (poller.asks ?? 0) + 1;
    poller.setTriggerValue?.("poll", poller.asks);
    poller.timer = setTimeout(() => poll(job, poller), POLL_MS);
    return;
  }
  const { points, records } = have(job);
  const url = new URL(poller.url, document.baseURI);
  url.search = new URLSearchParams({ since: points, records, curves: poller.curves ? "1" : "0" }).toString();
  let data = null;
  let wait = POLL_MS;
  try {
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    if (response.status === 403 || response.status === 401) poller.fallback = true;
    else if (response.status === 404) return stop(job); // the server forgot the job: the page says so on its next run
    else if (response.ok) data = await response.json();
    else wait = RETRY_MS;
  } catch {
    wait = RETRY_MS;
  }
  if (poller.stopped) return;
  if (data) {
    live.queue.push({ data });
    live.process?.();
    if (ENDED.includes(data.status)) {
      stop(job);
      poller.setTriggerValue?.("ended", { job, ...have(job) });
      return;
    }
  }
  poller.timer = setTimeout(() => poll(job, poller), poller.fallback ? 0 : wait);
}

function follow(data, setTriggerValue) {
  if (!data.poll_url || ENDED.includes(data.status)) return stop(data.job);
  let poller = live.pollers.get(data.job);
  const started = !poller;
  if (started) {
    poller = { timer: null, stopped: false, fallback: false };
    live.pollers.set(data.job, poller);
  }
  Object.assign(poller, { url: data.poll_url, curves: data.curves, setTriggerValue });
  if (started) poller.timer = setTimeout(() => poll(data.job, poller), POLL_MS);
}

// Every message of the feed (it carries setTriggerValue) says whether to poll; the route's answers do not.
const foldQueue = live.process;
live.process = () => {
  for (const entry of live.queue) if (entry.setTriggerValue) follow(entry.data, entry.setTriggerValue);
  foldQueue();
};
live.unfollow = stop;
