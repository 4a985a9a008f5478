"""One simulated student's lesson, as a class follows it, each interaction timed from the click to what it shows.

give a name → Dataset (one image by index) → train (most students: Quick start, the same request for all;
some: the Train page with a seed of their own) and watch until the test accuracy shows → Predict, "Next" a few
times → Mistakes, one confusion cell (a "most confused pair") → the Class board, left open until the lesson ends.
"""

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

from benchmarks.streamlit_client import StreamlitClient

NAME, DATASET_IMAGE, NEXT, CELL = "give a name", "Dataset: image by index", "Predict: Next", \
    "Mistakes: confusion cell"
TRAIN_SAME, TRAIN_OWN = "train: Quick start (same)", "train: own seed"
KINDS = ["open Home", NAME, "open Dataset", DATASET_IMAGE, "open Train", TRAIN_SAME, TRAIN_OWN, "open Predict", NEXT,
         "open Mistakes", CELL, "open Class board"]


@dataclass(frozen=True)
class LessonPlan:
    """What every student does, and how long they think between clicks."""

    browse_clicks: int = 3  # "Next" on Predict
    think_seconds: tuple = (1.0, 3.0)  # uniform, between two interactions
    train_timeout: float = 900.0  # click → test accuracy, the longest a training (queue included) may take


@dataclass
class Record:
    """The timed interactions of the whole school: (kind, seconds) and (kind, error text)."""

    timings: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    students_done: int = 0

    def __repr__(self) -> str:
        return f"Record({len(self.timings)} interactions, {len(self.errors)} errors, {self.students_done} done)"


async def timed(record: Record, kind: str, action) -> None:
    """Run one interaction; its time goes to record (an error is recorded and ends the student's lesson)."""
    started = time.perf_counter()
    try:
        await action
    except Exception as error:
        record.errors.append((kind, f"{type(error).__name__}: {str(error)[:200]}"))
        raise
    record.timings.append((kind, time.perf_counter() - started))


async def train_and_watch(student: StreamlitClient, own_seed: int | None, timeout: float) -> None:
    """Click a training and watch the live view (its fragment reruns) until the test accuracy shows."""
    if own_seed is None:
        await student.click("Quick start…")
    else:
        await student.set_value("Seed", own_seed)
        await student.click("Train")
    await student.wait_until(lambda: student.metric("Test accuracy") is not None, "the test accuracy shown", timeout)


async def next_image(student: StreamlitClient) -> None:
    """"Next ▶" in the in-page browser: it redraws at once in the browser and then reports the new view to the
    server (components v2 state "view"), which reruns the page; this times that report until the run ended."""
    shown = server_view(student)
    view = {key: shown[key] for key in ("image", "epoch", "true_class", "result")}
    view["image"] += 1
    await student.set_component_state(student.components("mnist_lab.image_browser")[0], {"view": view})
    if server_view(student)["image"] != view["image"]:
        raise LookupError(f"the server did not follow the browser to image {view['image']}")


def server_view(student: StreamlitClient) -> dict:
    """The view the server last gave the in-page browser (image, epoch, true_class, result)."""
    return json.loads(student.components("mnist_lab.image_browser_view")[0].proto.json)


async def lesson(url: str, name: str, own_seed: int | None, plan: LessonPlan, record: Record, rng: random.Random,
                 lesson_over: asyncio.Event) -> None:
    """One student, from opening the app to leaving the Class board open until lesson_over is set."""
    student = StreamlitClient(url)

    async def think():
        await asyncio.sleep(rng.uniform(*plan.think_seconds))

    try:
        await timed(record, "open Home", student.connect())
        await think()
        await timed(record, NAME, student.click("Save my name", {"Your name": name}))
        if not student.has_text("**You:** ") or student.widgets("Your name"):
            record.errors.append((NAME, "the name was not accepted"))
            return
        await think()
        await timed(record, "open Dataset", student.open_page("Dataset"))
        await think()
        await timed(record, DATASET_IMAGE, student.set_value("Training image index", rng.randrange(1, 1000)))
        await think()
        if own_seed is None:
            await timed(record, "open Home", student.open_page("Home"))
        else:
            await timed(record, "open Train", student.open_page("Train"))
        await think()
        await timed(record, TRAIN_SAME if own_seed is None else TRAIN_OWN,
                    train_and_watch(student, own_seed, plan.train_timeout))
        await think()
        await timed(record, "open Predict", student.open_page("Predict"))
        for _ in range(plan.browse_clicks):
            await think()
            await timed(record, NEXT, next_image(student))
        await think()
        await timed(record, "open Mistakes", student.open_page("Mistakes"))
        await think()
        await timed(record, CELL, student.click(next(label for label in student.labels() if " → " in label)))
        await think()
        await timed(record, "open Class board", student.open_page("Class board"))
        record.students_done += 1
        await lesson_over.wait()  # the tab stays open (the board's watcher keeps rerunning) until the lesson ends
    except Exception:  # noqa: BLE001 — already recorded by timed(); the student's lesson ends here
        pass
    finally:
        await student.close()
