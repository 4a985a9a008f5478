"""Benchmark: trainings on a Dask cluster against this machine's process pool.

Run: .venv/bin/python benchmarks/bench_dask.py [--subset full] [--epochs 3] [--quick]
Starts its own `dask scheduler` and `dask worker` processes on loopback, as they run on separate machines, and
prints: the latency of events from a worker to the server (p50/p95, while a training runs), the per-job overhead
through Dask and through the local pool for the same training, and the wall time of 8 distinct trainings with 1
and with 2 single-threaded workers. --quick: small subset, 1 epoch, fewer repeats (checks that it runs).
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Benchmark models go to a throw-away store, not the user's (the server process writes every model).
os.environ.setdefault("MNISTLIB_MODELS_DIR", tempfile.mkdtemp(prefix="mnistlib-bench-dask-"))
DASK = str(Path(sys.executable).parent / "dask")
_seeds = iter(range(1000, 100000))  # every training of the run is distinct: none is answered from the store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str]) -> subprocess.Popen:
    """A dask command in its own process group (so it can be ended with all its worker processes). The scheduler
    unpickles the tasks and the workers run them: both import mnistlib, hence PYTHONPATH (as in the README)."""
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def end(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_workers(address: str, count: int, arguments) -> subprocess.Popen:
    """`count` single-threaded worker processes offering one training each, warm as on a running server: each has
    loaded the data and trained this model once (XLA caches the compiled steps per process)."""
    import distributed

    from mnistlib.training import worker

    workers = start([DASK, "worker", address, "--nworkers", str(count), "--nthreads", "1", "--resources",
                     "training=1", "--no-dashboard", "--host", "127.0.0.1"])
    with distributed.Client(address, timeout=60, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=120)
        warm = [client.submit(worker.train, f"warm-{index}", request(arguments).to_dict(), lambda event: None,
                              lambda: False, workers=[name], pure=False)
                for index, name in enumerate(client.scheduler_info(n_workers=-1)["workers"])]
        for future in warm:
            if future.result().kind != "Finished":
                raise RuntimeError(f"warm-up training failed: {future.result().message}")
    return workers


def request(arguments, **settings):
    from mnistlib import models, training

    return training.TrainRequest("mnist", models.ModelSpec(seed=next(_seeds), **settings), arguments.epochs,
                                 subset=arguments.subset)


def start_probe(dask_worker, count: int, interval: float) -> None:
    """Runs on a worker (client.run): send count Progress events like a training's, each with its send time."""
    import threading

    from mnistlib.training import dask_cluster, events

    def send():
        for index in range(count):
            message = events.to_message(events.Progress("latency-probe", 1, 1, index, count, 0.5, 0.5, 0.0))
            dask_worker.log_event(dask_cluster.TOPIC, {**message, "sent": time.time()})
            time.sleep(interval)

    threading.Thread(target=send, daemon=True).start()


def event_latency(address: str, arguments) -> list[float]:
    """Seconds from log_event on a worker to the message in the server's queue, while a training runs."""
    from mnistlib.training.dask_cluster import DaskCluster

    backend = DaskCluster(address)
    count = 40 if arguments.quick else 200
    try:
        training = backend.submit("latency-training", request(arguments, batch_size=8).to_dict())
        probes = backend._client.run(start_probe, count=count, interval=0.05)
        delays, deadline = [], time.monotonic() + 120
        while len(delays) < count * len(probes) and time.monotonic() < deadline:
            try:
                message = backend.events.get(timeout=1)
            except Exception:  # noqa: BLE001 — queue.Empty
                continue
            if "sent" in message:
                delays.append(time.time() - message["sent"])
        backend.stop("latency-training")
        training.exception(timeout=120)
        return delays
    finally:
        backend.shutdown()


def per_job(backend, arguments, repeats: int) -> list[float]:
    """Wall time minus the worker's own training time, for repeats distinct trainings one after another."""
    from mnistlib import store, training

    trainer = training.Trainer(backend=backend)
    try:
        trainer.submit(request(arguments)).wait()  # warm: the first compile of this model is not overhead
        overheads = []
        for _ in range(repeats):
            started = time.perf_counter()
            state = trainer.submit(request(arguments)).wait()
            wall = time.perf_counter() - started
            if state.status != "finished":
                raise RuntimeError(f"training {state.status}: {state.message}")
            overheads.append(wall - store.load_card(state.model_id).training_seconds)
        return overheads
    finally:
        trainer.shutdown()


def throughput(address: str, arguments, count: int = 8) -> float:
    """Seconds for count distinct trainings submitted at once to the cluster, from submit to the last stored."""
    from mnistlib import training
    from mnistlib.training.dask_cluster import DaskCluster

    trainer = training.Trainer(backend=DaskCluster(address))
    try:
        started = time.perf_counter()
        jobs = [trainer.submit(request(arguments)) for _ in range(count)]
        states = [job.wait() for job in jobs]
        if any(state.status != "finished" for state in states):
            raise RuntimeError(f"not all finished: {[state.message for state in states if state.message]}")
        return time.perf_counter() - started
    finally:
        trainer.shutdown()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", choices=("full", "small"), default="full")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small subset, 1 epoch, fewer repeats")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.subset, arguments.epochs = "small", 1
    repeats = 2 if arguments.quick else 5
    from mnistlib.training.dask_cluster import DaskCluster
    from mnistlib.training.local_pool import LocalPool

    address = f"tcp://127.0.0.1:{free_port()}"
    scheduler = start([DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                       "--no-dashboard"])
    print(f"MNIST {arguments.subset}, {arguments.epochs} epoch(s), default model; scheduler {address}")
    try:
        workers = start_workers(address, 1, arguments)
        try:
            delays = event_latency(address, arguments)
            print(f"event latency worker → server: p50 {1000 * percentile(delays, 0.5):.1f} ms, "
                  f"p95 {1000 * percentile(delays, 0.95):.1f} ms ({len(delays)} events, a training running)")
            dask_overhead = per_job(DaskCluster(address), arguments, repeats)
            local_overhead = per_job(LocalPool(max_workers=1), arguments, repeats)
            print(f"per-job overhead (wall − training), median of {repeats}: Dask "
                  f"{statistics.median(dask_overhead):.2f} s, local pool {statistics.median(local_overhead):.2f} s")
            one = throughput(address, arguments)
        finally:
            end(workers)
        workers = start_workers(address, 2, arguments)
        try:
            two = throughput(address, arguments)
        finally:
            end(workers)
        print(f"8 distinct trainings: 1 worker {one:.1f} s, 2 workers {two:.1f} s ({one / two:.2f}x), "
              f"{os.cpu_count()} cores")
    finally:
        end(scheduler)


if __name__ == "__main__":
    main()
