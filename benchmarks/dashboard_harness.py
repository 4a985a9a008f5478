"""What the dashboard benchmarks share: the model store and environment of a run, a trained model, fresh browser
pages, memory and load figures, percentiles. bench_dashboard.py runs the measures; bench_class.py and others reuse it."""

import contextlib
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.browser.conftest import REPO  # noqa: E402

LOGS = REPO / "tests" / "output"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def environment(models: Path, subset: str = "full") -> dict:
    return {**os.environ, "MNISTLIB_MODELS_DIR": str(models), "MNISTLIB_SUBSET": subset}


def train_model(models: Path, subset: str = "full", epochs: int = 3) -> str:
    """A stored default model, trained headless (the pages need one)."""
    from mnistlib import models as model_specs
    from mnistlib import training

    os.environ["MNISTLIB_MODELS_DIR"] = str(models)
    trainer = training.Trainer()
    try:
        state = trainer.submit(training.TrainRequest("mnist", model_specs.ModelSpec(), epochs, subset=subset)).wait()
        return state.model_id
    finally:
        trainer.shutdown()


def rss_megabytes(pid: int, with_children: bool = False) -> float:
    """Resident memory of a process (and optionally its children) from /proc, in MB."""
    def one(process_id):
        with open(f"/proc/{process_id}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

    total = one(pid)
    if with_children:
        for child in Path(f"/proc/{pid}/task").glob("*/children"):
            for child_pid in child.read_text().split():
                total += rss_megabytes(int(child_pid), True)
    return total


@contextlib.contextmanager
def fresh_page(playwright_browser):
    """A page in its own browser context, closed afterwards: a tab left open on a stopped server keeps
    trying to reconnect and would take CPU from the next measurement."""
    context = playwright_browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def load_average() -> str:
    """The machine's 1-minute load average (the machine may be shared: each figure is printed with it)."""
    return Path("/proc/loadavg").read_text().split()[0]
