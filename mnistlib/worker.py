"""What runs inside a training worker process: warm-up, then one training job per task."""

import fcntl
import os
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

# Set by initialize() in each worker of the default pool: where events go (a multiprocessing queue).
_events = None
_datasets = {}


def initialize(events=None) -> None:
    """Pool initializer: remember the event queue, exit with the parent, import TensorFlow and warm it up."""
    global _events
    _events = events
    if events is not None and hasattr(events, "cancel_join_thread"):
        events.cancel_join_thread()  # never hang at exit flushing events nobody will read
    parent = os.getppid()

    def exit_when_orphaned():
        # A worker whose server died (even by SIGKILL) must not live on as an orphan.
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_when_orphaned, daemon=True, name="orphan-watch").start()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warm_up()


def warm_up() -> None:
    """Import TensorFlow and run one tiny compiled training chunk, so a real job starts at once."""
    import numpy as np

    from mnistlib import datasets, fastfit, models

    spec = models.ModelSpec(hidden_units=8, validation_split=0.0)
    tiny = datasets.Dataset("warm-up", "warm-up", tuple("0123456789"), "small",
                            np.zeros((64, 28, 28), np.uint8), np.zeros(64, np.uint8),
                            np.zeros((8, 28, 28), np.uint8), np.zeros(8, np.uint8))
    fastfit.train(models.build(spec), tiny, spec, 1, lambda event: None, lambda: False)


def ping() -> int:
    """A no-op task: submitting it makes the pool start (and warm) a worker ahead of the first job."""
    return os.getpid()


def _dataset(name: str, subset: str):
    """Datasets stay loaded in the worker between jobs."""
    from mnistlib import datasets

    if (name, subset) not in _datasets:
        _datasets[name, subset] = datasets.load(name, subset=subset)
    return _datasets[name, subset]


@contextmanager
def training_slot(locks_dir: Path, slots: int, should_stop):
    """Hold one of `slots` machine-wide slot files (flock) for the duration of a training."""
    locks_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(slots):
            handle = open(locks_dir / f"slot-{slot}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield slot
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if should_stop():
            yield None
            return
        time.sleep(0.2)


def run_job(job_id: str, request: dict, stop_file: str, events=None) -> dict:
    """Train one request in this process; every event also goes to the queue. Returns the final event."""
    from mnistlib import config

    sink = events if events is not None else _events

    def emit(event: dict) -> dict:
        event = {**event, "job": job_id, "time": time.time()}
        if sink is not None:
            sink.put(event)
        return event

    def should_stop() -> bool:
        return os.path.exists(stop_file)

    try:
        with training_slot(config.models_dir() / ".locks", config.max_trainings(), should_stop) as slot:
            if slot is None:
                return emit({"type": "stopped", "model_id": None, "epochs_done": 0, "history": []})
            return emit(_train(request, emit, should_stop))
    except Exception as error:  # every failure must reach the user as an event, never as a hang
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        return emit({"type": "failed", "message": f"Training failed: {detail}"})


def _train(request: dict, emit, should_stop) -> dict:
    """The training itself: build, fit with live events, evaluate, store. Returns the final event."""
    from mnistlib import datasets, fastfit, models, store

    spec = models.ModelSpec.from_dict(request["spec"])
    data = _dataset(request["dataset"], request["subset"])
    emit({"type": "started", "pid": os.getpid()})
    started = time.monotonic()
    model = models.build(spec)
    try:
        result = fastfit.train(model, data, spec, request["epochs"], emit, should_stop)
    except fastfit.LossNotFinite:
        return {"type": "failed", "message": (
            f"The loss became NaN (not a number): with learning rate {spec.learning_rate:g} the weights grew "
            "until the numbers overflowed. Lower the learning rate (try 0.001) and train again.")}
    history = result["history"]
    if not history:
        return {"type": "stopped", "model_id": None, "epochs_done": 0, "history": []}
    # The card's test figures come from plain Keras predict, as anyone loading the .keras file would get.
    final = model.predict(data.x_test.astype("float32") / 255.0, batch_size=1000, verbose=0)
    test_loss, test_accuracy = fastfit.mean_loss_and_accuracy(final, data.y_test)
    probabilities = result["test_probabilities"]
    probabilities[-1] = final.astype(probabilities.dtype)
    epochs_run = len(history)
    title = datasets.info(data.name).title
    name = request.get("name") or f"{title} · {spec.describe()}"
    card = store.save(model, {
        "name": name[: store.MAX_NAME_LENGTH], "dataset": data.name, "subset": data.subset, "spec": spec.to_dict(),
        "epochs_run": epochs_run, "history": history, "test_loss": test_loss, "test_accuracy": test_accuracy,
        "training_seconds": round(time.monotonic() - started, 2), "test_size": len(data.y_test),
    }, probabilities)
    final_type = "stopped" if result["stopped"] else "finished"
    return {"type": final_type, "model_id": card.id, "epochs_done": epochs_run, "history": history,
            "test_loss": test_loss, "test_accuracy": test_accuracy}
