"""Challenges: the lesson's goal, set by the teacher — a target validation accuracy on one dataset within limits
(parameters, epochs, training images, seconds of training), optionally closing at a time.

    challenge = challenges.set_challenge(store.TEACHER, title="97% under 20k", dataset="mnist",
                                         min_validation_accuracy=0.97, max_parameters=20_000)
    challenges.active("mnist")          # the one active challenge of a dataset, or None
    challenges.end(store.TEACHER, challenge.id); challenges.all_challenges()   # ended ones stay readable

Kept in the store's SQLite database (index.sqlite) in a table of its own (store/class_tables.py), so they survive
restarts. Only the teacher sets or ends one; the check is here, not in the page.
"""

import dataclasses
import math
from datetime import UTC, datetime

from mnistlib import datasets, names
from mnistlib.store import index
from mnistlib.store.folders import now
from mnistlib.store.ownership import Actor, PermissionDenied

MAX_TITLE_LENGTH = 80
COLUMNS = ("id", "title", "dataset", "min_validation_accuracy", "max_parameters", "max_epochs", "max_train_images",
           "max_seconds", "closes", "created", "ended")


@dataclasses.dataclass(frozen=True)
class Challenge:
    """One challenge: reach min_validation_accuracy (0–1] on dataset within the limits that are not None."""

    id: int
    title: str
    dataset: str
    min_validation_accuracy: float
    max_parameters: int | None = None
    max_epochs: int | None = None
    max_train_images: int | None = None
    max_seconds: float | None = None
    closes: str | None = None  # ISO 8601 UTC; models trained after it do not count
    created: str = ""
    ended: str | None = None  # ISO 8601 UTC once the teacher ended it

    def __repr__(self):
        return f"Challenge({self.id}, {self.title!r}, {self.dataset}, ≥{self.min_validation_accuracy:.2%})"

    @property
    def is_active(self) -> bool:
        return self.ended is None

    def deadline(self) -> str | None:
        """The moment after which models no longer count: the closing time or the end, whichever is first."""
        moments = [moment for moment in (self.closes, self.ended) if moment]
        return min(moments) if moments else None

    def is_closed(self, at: str | None = None) -> bool:
        deadline = self.deadline()
        return deadline is not None and (at or now()) > deadline

    def limits(self) -> list[str]:
        """The limits as short phrases ("at most 20,000 parameters"), in a fixed order."""
        phrases = []
        if self.max_parameters is not None:
            phrases.append(f"at most {self.max_parameters:,} parameters")
        if self.max_epochs is not None:
            phrases.append(f"at most {self.max_epochs} epoch{'s' if self.max_epochs != 1 else ''}")
        if self.max_train_images is not None:
            phrases.append(f"at most {self.max_train_images:,} training images")
        if self.max_seconds is not None:
            phrases.append(f"at most {self.max_seconds:g} seconds of training")
        return phrases

    def goal(self) -> str:
        """One line: the target and the limits, e.g. "validation accuracy of at least 97.00%, at most 5 epochs"."""
        closes = [f"closes {self.closes[:16].replace('T', ' ')} UTC"] if self.closes else []
        return ", ".join([f"validation accuracy of at least {self.min_validation_accuracy:.2%}", *self.limits(),
                          *closes])


def _optional_whole(value, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise ValueError(f"{what} must be a whole number, not {value!r}.")
    if value < 1:
        raise ValueError(f"{what} must be at least 1 (it was {int(value)}).")
    return int(value)


def _closing_time(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"The closing time {str(value)!r} is not a date and time like 2026-12-03T10:30.") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment <= datetime.now(UTC):
        raise ValueError("The closing time has already passed: choose a moment in the future (UTC).")
    return moment.isoformat(timespec="milliseconds")


def validated(title, dataset, min_validation_accuracy, max_parameters=None, max_epochs=None, max_train_images=None,
              max_seconds=None, closes=None) -> dict:
    """The challenge's fields, checked; ValueError with one sentence for an impossible or malformed value."""
    title = names.clean(title, MAX_TITLE_LENGTH, "The challenge's title")
    if dataset not in datasets.available():
        raise ValueError(f"Unknown dataset {dataset!r}: choose one of {', '.join(datasets.available())}.")
    accuracy = min_validation_accuracy
    if isinstance(accuracy, bool) or not isinstance(accuracy, int | float) or not math.isfinite(accuracy):
        raise ValueError(f"The target validation accuracy must be a number from 0 to 1, not {accuracy!r}.")
    if not 0 < accuracy <= 1:
        raise ValueError(f"The target validation accuracy must be above 0 and at most 1 (e.g. 0.97 for 97%); "
                         f"{accuracy:g} is impossible.")
    seconds = max_seconds
    if seconds is not None and seconds != "":
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) \
                or seconds <= 0:
            raise ValueError(f"The time limit must be a positive number of seconds, not {seconds!r}.")
        seconds = float(seconds)
    else:
        seconds = None
    return {"title": title, "dataset": dataset, "min_validation_accuracy": float(accuracy),
            "max_parameters": _optional_whole(max_parameters, "The parameter limit"),
            "max_epochs": _optional_whole(max_epochs, "The epoch limit"),
            "max_train_images": _optional_whole(max_train_images, "The training-image limit"),
            "max_seconds": seconds, "closes": _closing_time(closes)}


def _require_teacher(actor: Actor, what: str) -> None:
    if not isinstance(actor, Actor) or not actor.teacher:
        raise PermissionDenied(f"Only the teacher can {what}. Nothing was changed.")


def _rows(connection, where: str = "", values=()) -> list[Challenge]:
    query = f"SELECT {', '.join(COLUMNS)} FROM challenges {where} ORDER BY id DESC"
    return [Challenge(*row) for row in connection.execute(query, values).fetchall()]


def set_challenge(actor: Actor, **fields) -> Challenge:
    """Start a challenge (the teacher only; one active per dataset). Fields as validated() takes them."""
    _require_teacher(actor, "set a challenge")
    values = validated(**fields)

    def work(connection):
        with index.transaction(connection):
            running = connection.execute("SELECT title FROM challenges WHERE dataset = ? AND ended IS NULL",
                                         (values["dataset"],)).fetchone()
            if running:
                raise ValueError(f"The challenge “{running[0]}” is still active on "
                                 f"{datasets.info(values['dataset']).title}: end it first (one per dataset).")
            cursor = connection.execute(
                f"INSERT INTO challenges ({', '.join(COLUMNS[1:])}) VALUES ({', '.join('?' * (len(COLUMNS) - 1))})",
                (*values.values(), now(), None))
            return cursor.lastrowid

    return get(index.run(work))


def end(actor: Actor, challenge_id: int) -> Challenge:
    """End an active challenge (the teacher only); it stays readable with its results."""
    _require_teacher(actor, "end a challenge")

    def work(connection):
        with index.transaction(connection):
            changed = connection.execute("UPDATE challenges SET ended = ? WHERE id = ? AND ended IS NULL",
                                         (now(), challenge_id)).rowcount
        return changed

    if not index.run(work):
        raise ValueError(f"There is no active challenge number {challenge_id}.")
    return get(challenge_id)


def get(challenge_id: int) -> Challenge:
    found = index.run(lambda connection: _rows(connection, "WHERE id = ?", (challenge_id,)))
    if not found:
        raise LookupError(f"There is no challenge number {challenge_id}.")
    return found[0]


def active(dataset: str) -> Challenge | None:
    """The active challenge of a dataset, or None."""
    found = index.run(lambda connection: _rows(connection, "WHERE dataset = ? AND ended IS NULL", (dataset,)))
    return found[0] if found else None


def all_active() -> list[Challenge]:
    return index.run(lambda connection: _rows(connection, "WHERE ended IS NULL"))


def all_challenges() -> list[Challenge]:
    """Every challenge, newest first, the ended ones too."""
    return index.run(_rows)
