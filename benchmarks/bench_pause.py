"""Benchmark Pause and Resume on this machine's worker processes: the worker's CPU use while it trains and while it is
paused (from /proc, Linux only), and how long Pause and Resume take to show in the job's state.

Run: .venv/bin/python benchmarks/bench_pause.py [--paused-seconds 10]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["MNISTLIB_MODELS_DIR"] = tempfile.mkdtemp(prefix="bench-pause-")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_rate(pid: int, seconds: float) -> float:
    """CPU seconds per second the process uses over the next `seconds`."""
    used, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - used) / (time.monotonic() - started)


def wait_for_status(job, status: str) -> float:
    """Seconds until the job's state shows status."""
    started = time.monotonic()
    while job.snapshot().status != status:
        time.sleep(0.01)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paused-seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    from mnistlib import models, store, training

    trainer = training.Trainer()
    try:
        request = training.TrainRequest("mnist", models.ModelSpec(seed=7, batch_size=8), 200, subset="small")
        job = trainer.submit(request, owner=store.Actor("ada", "Ada"))
        while job.snapshot().epoch < 2:
            time.sleep(0.05)
        [worker] = trainer.backend.processes()
        print(f"training: {cpu_rate(worker.pid, 3.0):.2f} CPU-s per s")
        job.pause()
        print(f"Pause shown after {wait_for_status(job, 'paused'):.2f} s")
        print(f"paused: {cpu_rate(worker.pid, arguments.paused_seconds):.4f} CPU-s per s over "
              f"{arguments.paused_seconds:g} s")
        job.resume()
        print(f"Resume shown after {wait_for_status(job, 'running'):.2f} s")
        job.stop()
        job.wait(60)
    finally:
        trainer.shutdown()


if __name__ == "__main__":
    main()
