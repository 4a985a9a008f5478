"""bench_class.py's "class at once", played by simulated students instead of Chromium tabs: the check that the
load generator's figures are real is that both give the same server CPU per interaction and similar latencies.

Same server (the small subset, one stored model), same sessions (Predict?model=…&image=i), same round-robin of
one interaction per session per round for the same time: "Next" four times in five, else to Mistakes and back to
Predict. In Chromium "Next" redraws in the page and is timed until the new index shows (the server follows
about 150 ms later); here "Next" is the report the page then sends, timed until the server's rerun ended.

Run: .venv/bin/python benchmarks/bench_class_generator.py [--sessions 20] [--seconds 60]
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.dashboard_harness import LOGS, environment, percentile, train_model  # noqa: E402
from benchmarks.streamlit_client import StreamlitClient  # noqa: E402
from tests.browser.conftest import start_app, stop_app  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """The server process's own CPU time (user + system), training workers apart."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def class_at_once(url: str, server_pid: int, model_id: str, seconds: float, sessions: int) -> dict:
    """The simulated class: per kind p50/p95 (ms), errors, and the server's CPU per interaction."""
    students = [StreamlitClient(url) for _ in range(sessions)]
    for index, student in enumerate(students):
        await student.connect("Predict", f"model={model_id}&image={index}")
    by_kind, errors, on_mistakes, step = {}, [], [False] * sessions, 0
    cpu_before, deadline = cpu_seconds(server_pid), time.monotonic() + seconds
    while time.monotonic() < deadline:  # round-robin: one interaction per session per round, as bench_class
        for index, student in enumerate(students):
            kind = "to Predict" if on_mistakes[index] else "to Mistakes" if (step + index) % 5 == 4 else "Next"
            started = time.perf_counter()
            try:
                if on_mistakes[index]:
                    await student.open_page("Predict")
                    on_mistakes[index] = False
                elif kind == "to Mistakes":
                    await student.open_page("Mistakes")
                    await student.wait_for_text("Most confused pairs")
                    on_mistakes[index] = True
                else:
                    view = json.loads(student.components("mnist_lab.image_browser_view")[0].proto.json)
                    wanted = {key: view[key] for key in ("image", "epoch", "true_class", "result")}
                    wanted["image"] = (wanted["image"] + 1) % 200
                    await student.set_component_state(student.components("mnist_lab.image_browser")[0],
                                                      {"view": wanted})
            except Exception as error:  # noqa: BLE001 — count every failure as an error of the run
                errors.append(f"session {index}: {type(error).__name__}: {error}")
            by_kind.setdefault(kind, []).append(time.perf_counter() - started)
        step += 1
    cpu = cpu_seconds(server_pid) - cpu_before
    for student in students:
        await student.close()
    timings = [value for values in by_kind.values() for value in values]
    return {"sessions": sessions, "interactions": len(timings), "errors": errors,
            "p50_ms": round(1000 * statistics.median(timings)), "p95_ms": round(1000 * percentile(timings, 0.95)),
            "server_cpu_ms_per_interaction": round(1000 * cpu / len(timings)),
            "kinds": {kind: {"count": len(values), "p50_ms": round(1000 * statistics.median(values)),
                             "p95_ms": round(1000 * percentile(values, 0.95))} for kind, values in by_kind.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    arguments = parser.parse_args()
    LOGS.mkdir(parents=True, exist_ok=True)
    models = Path(tempfile.mkdtemp(prefix="mnistlib-bench-models-"))
    model_id = train_model(models, subset="small")
    server, url = start_app("app.py", environment(models, subset="small"), LOGS / "bench-class-generator.log")
    try:
        print(f"load average before: {os.getloadavg()}")
        result = asyncio.run(class_at_once(url, server.pid, model_id, arguments.seconds, arguments.sessions))
    finally:
        stop_app(server)
    print(f"simulated class at once: {result['sessions']} sessions for {arguments.seconds:.0f} s, "
          f"{result['interactions']} interactions, {len(result['errors'])} errors, p50 {result['p50_ms']} ms, "
          f"p95 {result['p95_ms']} ms, server CPU {result['server_cpu_ms_per_interaction']} ms per interaction; "
          + "; ".join(f"{kind}: {figures['count']}, p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms"
                      for kind, figures in result["kinds"].items()))
    for error in result["errors"][:5]:
        print(f"error: {error}")


if __name__ == "__main__":
    main()
