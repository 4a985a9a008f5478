// The server's view for the Predict page's image browser (image, epoch, filters): a tiny element that changes on
// every rerun, so that the big payload of the browser itself stays identical and is sent once. If no browser has
// shown the payload within timeout_seconds (its data is slow to arrive, or could not be read), the trigger
// "failed" tells the server, which then shows its own browser instead.

const registry = (globalThis.__mnistLabImageBrowsers ??= { browsers: new Map(), pending: new Map(), timers: new Map() });

export default function (component) {
  const { data, setTriggerValue } = component;
  if (!data || typeof data.payload !== "string") return undefined;
  const { payload } = data;
  registry.pending.set(payload, data);
  clearTimeout(registry.timers.get(payload));
  registry.timers.delete(payload);
  const browser = registry.browsers.get(payload);
  if (browser?.ready) {
    browser.serverView(data);
  } else {
    registry.timers.set(payload, setTimeout(() => {
      registry.timers.delete(payload);
      if (!registry.browsers.get(payload)?.ready) {
        setTriggerValue("failed", `the data did not arrive within ${data.timeout_seconds} seconds`);
      }
    }, 1000 * data.timeout_seconds));
  }
  return () => {
    clearTimeout(registry.timers.get(payload));
    registry.timers.delete(payload);
    registry.pending.delete(payload);
  };
}
