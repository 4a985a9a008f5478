// The class board's watcher: polls the board's change counter (GET api/board/version, dashboard/routes.py) every few
// seconds and asks the server for a rerun (trigger "changed") only when it differs from the one the board was drawn
// with. A failed request (server restarting) is tried again at the next tick.
const watchers = (globalThis.__mnistLabBoardWatchers ??= new Map()); // element key -> { timer, version }

export default function ({ data, setTriggerValue, key }) {
  if (!data || typeof data.version !== "string" || typeof data.url !== "string") return undefined;
  const id = key ?? "board";
  clearTimeout(watchers.get(id)?.timer);
  const watcher = { timer: null, version: data.version, told: false };
  watchers.set(id, watcher);
  const tick = async () => {
    try {
      const response = await fetch(new URL(data.url, document.baseURI), { cache: "no-store" });
      if (response.ok) {
        const { version } = await response.json();
        if (version !== watcher.version && !watcher.told && watchers.get(id) === watcher) {
          watcher.told = true; // once per drawn board: the rerun draws it again with the new counter
          setTriggerValue("changed", version);
        }
      }
    } catch {
      // the next tick tries again
    }
    if (watchers.get(id) === watcher) watcher.timer = setTimeout(tick, data.every_ms);
  };
  watcher.timer = setTimeout(tick, data.every_ms);
  return () => {
    clearTimeout(watcher.timer);
    if (watchers.get(id) === watcher) watchers.delete(id);
  };
}
