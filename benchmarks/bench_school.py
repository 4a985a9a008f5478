"""Benchmark a school: N simulated students (no browser) following a lesson against 1 or more server processes.

Each student speaks Streamlit's websocket protocol (benchmarks/streamlit_client.py) and follows the lesson of
benchmarks/school_lesson.py. Per kind of interaction: p50/p95 and errors; the server's CPU seconds per
interaction (its processes, measured from /proc through psutil; the training workers apart); and which resource
ran out first: the machine's CPU, its memory, or the training queue.

Run: .venv/bin/python benchmarks/bench_school.py --students 30 --processes 1 [--json out.json]
     .venv/bin/python benchmarks/bench_school.py --students 100 --url http://127.0.0.1:8501 --models-dir models
Without --url it starts P `streamlit run app.py` processes on free ports, sharing one new MNISTLIB_MODELS_DIR
(MNISTLIB_DATA_DIR as in the environment), and gives students to them in turn (each student keeps its server).
"""

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.school_lesson import KINDS, TRAIN_OWN, TRAIN_SAME, LessonPlan, Record, lesson  # noqa: E402
from benchmarks.streamlit_client import StreamlitClient  # noqa: E402
from tests.browser.conftest import start_app, stop_app  # noqa: E402

LOGS = Path(__file__).resolve().parent.parent / "tests" / "output"
# The machine's CPU counts as used up above this fraction of all cores, on average over the run (which includes
# the lesson's quiet end, students on the board: the busy part of the run is busier than the average).
CPU_BUSY = 0.75
MEMORY_LOW = 0.10  # its memory, below this fraction available
SERVER_CORE_BUSY = 0.80  # a server process counts as used up above this fraction of one core


def percentile(values: list, fraction: float) -> float:
    """The value below which fraction of values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


class Sampler:
    """Once a second: the servers' and their workers' CPU seconds and memory, the machine, the training queue."""

    def __init__(self, server_pids: list[int], models_dir: Path | None):
        self.servers = [psutil.Process(pid) for pid in server_pids]
        self.database = models_dir / "index.sqlite" if models_dir else None
        self.samples = []

    def __repr__(self) -> str:
        return f"Sampler({len(self.servers)} servers, {len(self.samples)} samples)"

    def cpu(self) -> tuple[float, float]:
        """(servers' own CPU seconds, their child processes' — the training workers), user + system."""
        own = workers = 0.0
        for server in self.servers:
            try:
                times = server.cpu_times()
                own += times.user + times.system
                for child in server.children(recursive=True):
                    child_times = child.cpu_times()
                    workers += child_times.user + child_times.system
            except psutil.Error:
                continue
        return own, workers

    def queue(self) -> int | None:
        """Trainings queued or running in the store's journal, or None when the store is not known."""
        if self.database is None or not self.database.exists():
            return None
        try:
            with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5) as connection:
                return connection.execute("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'starting', "
                                          "'running')").fetchone()[0]
        except sqlite3.Error:
            return None

    def sample(self) -> None:
        rss = 0
        for server in self.servers:
            try:
                rss += server.memory_info().rss + sum(child.memory_info().rss for child in server.children(True))
            except psutil.Error:
                continue
        self.samples.append({"time": time.monotonic(), "servers_cpu": self.cpu()[0],
                             "machine_cpu": psutil.cpu_percent() / 100,
                             "available": psutil.virtual_memory().available / psutil.virtual_memory().total,
                             "servers_rss": rss, "queue": self.queue()})

    async def run(self, stop: asyncio.Event) -> None:
        psutil.cpu_percent()  # the first call only starts the measurement
        while not stop.is_set():
            await asyncio.sleep(1)
            self.sample()


async def school(urls: list[str], students: int, distinct: float, ramp: float, plan: LessonPlan,
                 sampler: Sampler, seed: int, max_seconds: float, warm_pages: list[str]) -> dict:
    """Run the lesson for every student at once (joining over ramp seconds); the figures of the run."""
    for url in urls:  # one visit per server first, so that the class does not meet a cold server's first run
        warm = StreamlitClient(url)
        await warm.connect()
        for page in warm_pages:
            await warm.open_page(page)
        await warm.close()
    load_before = [round(value, 2) for value in os.getloadavg()]
    record, lesson_over, stop_sampling = Record(), asyncio.Event(), asyncio.Event()
    rng, tag = random.Random(seed), f"{os.getpid() % 10000}x{int(time.time()) % 100000}"
    every = round(1 / distinct) if distinct > 0 else 0

    async def one(index: int):
        await asyncio.sleep(ramp * index / students)
        own_seed = 1000 + index if every and index % every == every - 1 else None
        await lesson(urls[index % len(urls)], f"Student {index + 1} {tag}", own_seed, plan, record,
                     random.Random(rng.random()), lesson_over)

    sampling = asyncio.create_task(sampler.run(stop_sampling))
    cpu_before, started, times_before = sampler.cpu(), time.monotonic(), os.times()
    tasks = [asyncio.create_task(one(index)) for index in range(students)]
    # A student who reached the board waits there for lesson_over; a task that ended is a lesson an error cut short.
    while record.students_done + sum(task.done() for task in tasks) < students:
        if time.monotonic() - started > max_seconds:  # the lesson is over for everyone still on their way
            break
        await asyncio.sleep(0.5)
    unfinished = students - record.students_done - sum(task.done() for task in tasks)
    cpu_after, wall, times_after = sampler.cpu(), time.monotonic() - started, os.times()
    lesson_over.set()
    for task in tasks:
        task.cancel()  # those on the board leave; those still on their way are cut off (counted as unfinished)
    await asyncio.gather(*tasks, return_exceptions=True)
    stop_sampling.set()
    await sampling
    generator_cpu = (times_after.user - times_before.user) + (times_after.system - times_before.system)
    return {**summary(record, students, len(urls), wall, cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1],
                      generator_cpu, sampler.samples), "load_average_before": load_before, "unfinished": unfinished}


def summary(record: Record, students: int, processes: int, wall: float, server_cpu: float, worker_cpu: float,
            generator_cpu: float, samples: list) -> dict:
    """Per kind p50/p95 (ms) and errors, CPU per interaction, and the resource nearest to running out."""
    kinds = {}
    for kind in KINDS:
        values = [seconds for name, seconds in record.timings if name == kind]
        errors = [text for name, text in record.errors if name == kind]
        if values or errors:
            kinds[kind] = {"count": len(values), "errors": len(errors), "error_examples": sorted(set(errors))[:3],
                           "p50_ms": round(1000 * statistics.median(values)) if values else None,
                           "p95_ms": round(1000 * percentile(values, 0.95)) if values else None}
    interactions = len(record.timings)
    clicks = [seconds for kind, seconds in record.timings if kind not in (TRAIN_SAME, TRAIN_OWN)]
    busy = statistics.mean(sample["machine_cpu"] for sample in samples) if samples else None
    lowest_memory = min(sample["available"] for sample in samples) if samples else None
    queues = [sample["queue"] for sample in samples if sample["queue"] is not None]
    result = {
        "students": students, "processes": processes, "students_done": record.students_done, "wall_s": round(wall, 1),
        "cores": psutil.cpu_count(),
        "interactions": interactions, "errors": len(record.errors), "kinds": kinds,
        "clicks_p50_ms": round(1000 * statistics.median(clicks)) if clicks else None,
        "clicks_p95_ms": round(1000 * percentile(clicks, 0.95)) if clicks else None,
        "server_cpu_s": round(server_cpu, 1), "workers_cpu_s": round(worker_cpu, 1),
        "server_cpu_ms_per_interaction": round(1000 * server_cpu / interactions) if interactions else None,
        "generator_cpu_s": round(generator_cpu, 1), "machine_cpu_busy": round(busy, 3) if busy is not None else None,
        "lowest_memory_available": round(lowest_memory, 3) if lowest_memory is not None else None,
        "peak_servers_rss_mb": round(max((s["servers_rss"] for s in samples), default=0) / 1e6),
        "longest_training_queue": max(queues) if queues else None,
    }
    result["busiest_server_core"] = busiest_core(samples, processes)
    result["bound"] = bound(result)
    return result


def busiest_core(samples: list, processes: int, window: int = 10) -> float | None:
    """The servers' highest CPU use over any window of samples, as a fraction of one core per process (Python runs
    one process's scripts on about one core: its global interpreter lock)."""
    fractions = [(later["servers_cpu"] - earlier["servers_cpu"]) / (later["time"] - earlier["time"]) / processes
                 for earlier, later in zip(samples, samples[window:], strict=False)]
    return round(max(fractions), 2) if fractions else None


def bound(result: dict) -> str:
    """The resource that ran out first, in words, from the run's figures."""
    if result["lowest_memory_available"] is not None and result["lowest_memory_available"] < MEMORY_LOW:
        return f"memory: {result['lowest_memory_available']:.0%} available at the lowest"
    slowest = max(result["kinds"].items(), key=lambda item: item[1]["p95_ms"] or 0)
    if result["busiest_server_core"] is not None and result["busiest_server_core"] >= SERVER_CORE_BUSY:
        return (f"the server process: {result['busiest_server_core']:.0%} of one core per process at the busiest "
                f"(10 s); slowest: {slowest[0]}, p95 {slowest[1]['p95_ms'] / 1000:.1f} s")
    if result["machine_cpu_busy"] is not None and result["machine_cpu_busy"] >= CPU_BUSY:
        return (f"the machine's CPU: {result['machine_cpu_busy']:.0%} of {result['cores']} cores busy on average, of "
                f"which the servers {result['server_cpu_s']} s, training {result['workers_cpu_s']} s, this generator "
                f"{result['generator_cpu_s']} s in {result['wall_s']} s (the rest: other processes); slowest: "
                f"{slowest[0]}, p95 {slowest[1]['p95_ms'] / 1000:.1f} s")
    trainings = [result["kinds"][kind]["p95_ms"] for kind in (TRAIN_SAME, TRAIN_OWN)
                 if result["kinds"].get(kind, {}).get("p95_ms")]
    if result["longest_training_queue"] and trainings and max(trainings) > 4 * result["clicks_p95_ms"]:
        return (f"training queue: up to {result['longest_training_queue']} trainings queued or running, "
                f"click → test accuracy p95 {max(trainings) / 1000:.1f} s")
    return (f"none ran out: CPU {result['machine_cpu_busy']:.0%} busy, memory "
            f"{result['lowest_memory_available']:.0%} available at the lowest")


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['students']} students × {result['processes']} process(es): "
                        f"{result['interactions']} interactions, {result['errors']} errors, {result['unfinished']} "
                        f"students cut off by the lesson's end, {result['wall_s']} s "
                        f"(load average before: {result['load_average_before']})")
    for column in ("interaction", "count", "p50 ms", "p95 ms", "errors"):
        table.add_column(column, justify="left" if column == "interaction" else "right")
    for kind, figures in result["kinds"].items():
        table.add_row(kind, str(figures["count"]), str(figures["p50_ms"]), str(figures["p95_ms"]),
                      str(figures["errors"]))
    table.add_row("all clicks (trainings apart)", "", str(result["clicks_p50_ms"]), str(result["clicks_p95_ms"]), "")
    console = Console()
    console.print(table)
    console.print(f"server CPU {result['server_cpu_s']} s = {result['server_cpu_ms_per_interaction']} ms per "
                  f"interaction; training workers {result['workers_cpu_s']} s; this generator "
                  f"{result['generator_cpu_s']} s; peak server RSS {result['peak_servers_rss_mb']} MB; longest "
                  f"training queue {result['longest_training_queue']}")
    console.print(f"bound: {result['bound']}")
    for kind, figures in result["kinds"].items():
        for example in figures["error_examples"]:
            console.print(f"error ({kind}): {example}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--processes", type=int, default=1, help="server processes to start (without --url)")
    parser.add_argument("--url", action="append", help="a running server (repeatable); students go round-robin")
    parser.add_argument("--server-pid", type=int, action="append", default=[], help="with --url: its process id")
    parser.add_argument("--models-dir", type=Path, help="with --url: its MNISTLIB_MODELS_DIR (the training queue)")
    parser.add_argument("--subset", choices=["full", "small"], default="full", help="the started servers' data")
    parser.add_argument("--distinct", type=float, default=0.1, help="fraction of students training their own seed")
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds over which the students join")
    parser.add_argument("--browse", type=int, default=3, help="Next clicks on Predict per student")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warm", nargs="*", default=["Dataset", "Class board"],
                        help="pages one student opens on each server before the class (none: a cold server)")
    parser.add_argument("--max-seconds", type=float, default=900, help="the lesson ends for everyone after this")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    arguments = parser.parse_args()
    if arguments.students < 1 or arguments.processes < 1 or not 0 <= arguments.distinct <= 1:
        parser.error("--students and --processes must be at least 1, --distinct between 0 and 1")
    plan = LessonPlan(browse_clicks=arguments.browse)
    servers, models_dir = [], arguments.models_dir
    try:
        if arguments.url:
            urls, pids = arguments.url, arguments.server_pid
        else:
            LOGS.mkdir(parents=True, exist_ok=True)
            models_dir = Path(tempfile.mkdtemp(prefix="mnistlib-school-models-"))
            environment = {**os.environ, "MNISTLIB_MODELS_DIR": str(models_dir), "TF_CPP_MIN_LOG_LEVEL": "2"}
            if arguments.subset == "small":
                environment["MNISTLIB_SUBSET"] = "small"
            for number in range(arguments.processes):
                servers.append(start_app("app.py", environment, LOGS / f"bench-school-{number}.log"))
            urls, pids = [url for _, url in servers], [server.pid for server, _ in servers]
        result = asyncio.run(school(urls, arguments.students, arguments.distinct, arguments.ramp, plan,
                                    Sampler(pids, models_dir), arguments.seed, arguments.max_seconds, arguments.warm))
    finally:
        for server, _ in servers:
            stop_app(server)
    result["subset"] = arguments.subset if not arguments.url else "as the server runs"
    print_table(result)
    if arguments.json:
        arguments.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
