"""Trainings claimed in the store's database, so several server processes on one store act as one queue.

Each distinct request key has one row in `training_claims`: the process that trains it (host:pid:token), the job id,
a heartbeat, the request and everyone who asked for it. A process asked for a key that a live process holds does not
train it: it follows that process's job through the row and its events (`training_events`, written about twice a
second). A claim whose process died (its pid gone on this host, or no heartbeat for STALE_SECONDS) is taken over by
another live process, which trains it again from the start: same request, same seed, bit-identical model.
Rows live in the same index.sqlite as the models (WAL, the store's one connection per process: store.index.run).
"""

import contextlib
import dataclasses
import json
import os
import secrets
import socket
import sqlite3
import time

from mnistlib.store import index
from mnistlib.store.ownership import Actor

STALE_SECONDS = 10.0  # a claim with no heartbeat for this long belongs to a dead (or hung) process
ENDED_KEPT_SECONDS = 3600.0  # ended claims stay this long so followers in other processes see how they ended
ACTIVE, ENDINGS = "active", ("finished", "stopped", "failed")
SCHEMA = """
CREATE TABLE IF NOT EXISTS training_claims (
    key TEXT PRIMARY KEY, process TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1, heartbeat REAL NOT NULL, status TEXT NOT NULL, request_json TEXT NOT NULL,
    owners TEXT NOT NULL DEFAULT '[]', left_keys TEXT NOT NULL DEFAULT '[]', model_id TEXT, message TEXT DEFAULT '',
    updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS training_events (
    key TEXT NOT NULL, attempt INTEGER NOT NULL, seq INTEGER NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (key, attempt, seq));
CREATE INDEX IF NOT EXISTS training_claims_by_job ON training_claims (job_id);
"""
COLUMNS = "key, process, host, pid, job_id, attempt, heartbeat, status, request_json, owners, left_keys, model_id, message"


@dataclasses.dataclass(frozen=True)
class Claim:
    """One request key's row: who trains it (process, job_id, attempt) and how far it is (status, model_id)."""

    key: str
    process: str
    host: str
    pid: int
    job_id: str
    attempt: int
    heartbeat: float
    status: str  # "active" (queued or training), or how it ended: "finished", "stopped", "failed"
    request: dict
    owners: tuple  # store.Actor of everyone who asked for it, in any process
    left_keys: tuple  # owners who left it (their Stop in a process that follows it)
    model_id: str | None
    message: str

    def __repr__(self):
        return f"Claim({self.key[:12]}…, {self.status}, {self.process}, attempt {self.attempt})"

    def dead(self, now: float | None = None) -> bool:
        """Its process is gone: no heartbeat for STALE_SECONDS, or (on this host) no process with its pid."""
        if (now if now is not None else time.time()) - self.heartbeat > STALE_SECONDS:
            return True
        return self.host == socket.gethostname() and not _pid_alive(self.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _owners_json(owners) -> str:
    return json.dumps([{"key": owner.key, "display": owner.display} for owner in owners])


def _claim(row) -> Claim:
    owners = tuple(Actor(owner["key"], owner["display"]) for owner in json.loads(row[9] or "[]"))
    return Claim(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], json.loads(row[8]), owners,
                 tuple(json.loads(row[10] or "[]")), row[11], row[12] or "")


def _merged(existing: str, owners) -> str:
    merged = json.loads(existing or "[]")
    keys = {owner["key"] for owner in merged}
    merged += [{"key": owner.key, "display": owner.display} for owner in owners if owner.key not in keys]
    return json.dumps(merged)


@contextlib.contextmanager
def _transaction(connection):
    """BEGIN IMMEDIATE … COMMIT, without counting a change for the pages that watch the store (index.generation():
    the class board reruns when it moves; a heartbeat twice a second is no change to show)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


_ready: set = set()  # the connections (by id) whose database has this module's tables


def _run(work):
    """work(connection) on the store's connection, with this module's tables in place."""
    def with_tables(connection):
        if id(connection) not in _ready:
            connection.executescript(SCHEMA)
            _ready.add(id(connection))
        try:
            return work(connection)
        except sqlite3.OperationalError as error:  # a new database behind a reused connection id: create them
            if "no such table" not in str(error):
                raise
            connection.executescript(SCHEMA)
            return work(connection)
    return index.run(with_tables)


def _select(connection, key: str) -> Claim | None:
    row = connection.execute(f"SELECT {COLUMNS} FROM training_claims WHERE key = ?", (key,)).fetchone()
    return _claim(row) if row else None


class SharedQueue:
    """This process's side of the claim table: claim, follow, beat, release, take over."""

    def __init__(self, process: str | None = None):
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.process = process or f"{self.host}:{self.pid}:{secrets.token_hex(3)}"
        self._sequence: dict[tuple[str, int], int] = {}  # (key, attempt) -> events written so far

    def __repr__(self):
        return f"SharedQueue({self.process})"

    def claim(self, key: str, job_id: str, request: dict, owners=()) -> Claim:
        """Claim key for job_id, or join the live claim another process holds (owners added to it). The row as it is
        afterwards: ours when claim.process == self.process; a finished row with a model_id: reuse that model."""
        now = time.time()

        def work(connection):
            with _transaction(connection):
                existing = _select(connection, key)
                if existing is not None and (existing.status == ACTIVE and not existing.dead(now)
                                             or existing.status == "finished" and existing.model_id):
                    left = sorted(set(existing.left_keys) - {owner.key for owner in owners})
                    connection.execute("UPDATE training_claims SET owners = ?, left_keys = ?, updated = ? "
                                       "WHERE key = ?", (_merged(_owners_json(existing.owners), owners),
                                                         json.dumps(left), now, key))
                    return _select(connection, key)
                connection.execute(
                    f"INSERT OR REPLACE INTO training_claims ({COLUMNS}, updated) "
                    "VALUES (?, ?, ?, ?, ?, 1, ?, 'active', ?, ?, '[]', NULL, '', ?)",
                    (key, self.process, self.host, self.pid, job_id, now, json.dumps(request), _owners_json(owners),
                     now))
                connection.execute("DELETE FROM training_events WHERE key = ?", (key,))
                return _select(connection, key)
        return _run(work)

    def get(self, key: str) -> Claim | None:
        return _run(lambda connection: _select(connection, key))

    def by_job(self, job_id: str) -> Claim | None:
        row = _run(lambda connection: connection.execute(
            f"SELECT {COLUMNS} FROM training_claims WHERE job_id = ?", (job_id,)).fetchone())
        return _claim(row) if row else None

    def add_owners(self, key: str, owners) -> None:
        """More students asked for key here: they are its owners in every process (again, if they had left it)."""
        def work(connection):
            with _transaction(connection):
                row = connection.execute("SELECT owners, left_keys FROM training_claims WHERE key = ?",
                                         (key,)).fetchone()
                if row is not None:
                    left = sorted(set(json.loads(row[1] or "[]")) - {owner.key for owner in owners})
                    connection.execute("UPDATE training_claims SET owners = ?, left_keys = ? WHERE key = ?",
                                       (_merged(row[0], owners), json.dumps(left), key))
        _run(work)

    def leave(self, key: str, owner_key: str) -> None:
        """A student who followed key from this process left it: the training process takes them off its job."""
        def work(connection):
            with _transaction(connection):
                row = connection.execute("SELECT left_keys FROM training_claims WHERE key = ?", (key,)).fetchone()
                if row is not None:
                    left = sorted(set(json.loads(row[0] or "[]")) | {owner_key})
                    connection.execute("UPDATE training_claims SET left_keys = ? WHERE key = ?", (json.dumps(left), key))
        _run(work)

    def beat(self, events_by_claim: dict | None = None) -> list[Claim]:
        """Renew the heartbeat of every active claim of this process and write their new events
        ({(key, attempt): [message, …]}); returns those claims as they are now (owners others added, left_keys)."""
        now = time.time()

        def work(connection):
            with _transaction(connection):
                connection.execute("UPDATE training_claims SET heartbeat = ? WHERE process = ? AND status = ?",
                                   (now, self.process, ACTIVE))
                for (key, attempt), messages in (events_by_claim or {}).items():
                    start = self._sequence.get((key, attempt), 0)
                    connection.executemany("INSERT OR IGNORE INTO training_events VALUES (?, ?, ?, ?)",
                                           [(key, attempt, start + number, json.dumps(message))
                                            for number, message in enumerate(messages)])
                    self._sequence[(key, attempt)] = start + len(messages)
                rows = connection.execute(f"SELECT {COLUMNS} FROM training_claims WHERE process = ? AND status = ?",
                                          (self.process, ACTIVE)).fetchall()
                return [_claim(row) for row in rows]
        return _run(work)

    def events_after(self, key: str, attempt: int, seen: int) -> list[dict]:
        """The training events of key's attempt after the first `seen`, oldest first."""
        rows = _run(lambda connection: connection.execute(
            "SELECT message FROM training_events WHERE key = ? AND attempt = ? AND seq >= ? ORDER BY seq",
            (key, attempt, seen)).fetchall())
        return [json.loads(row[0]) for row in rows]

    def release(self, key: str, status: str, model_id: str | None = None, message: str = "") -> bool:
        """End this process's claim on key (status one of ENDINGS); False if it was no longer ours (taken over)."""
        if status not in ENDINGS:
            raise ValueError(f"A claim ends as one of {ENDINGS}, not {status!r}.")

        def work(connection):
            with _transaction(connection):
                changed = connection.execute(
                    "UPDATE training_claims SET status = ?, model_id = ?, message = ?, updated = ? "
                    "WHERE key = ? AND process = ? AND status = ?",
                    (status, model_id, message, time.time(), key, self.process, ACTIVE)).rowcount
                return changed == 1
        return _run(work)

    def dead_claims(self) -> list[Claim]:
        """Active claims whose process died: trainings that nobody trains any more."""
        now = time.time()
        rows = _run(lambda connection: connection.execute(
            f"SELECT {COLUMNS} FROM training_claims WHERE status = ? AND process != ?",
            (ACTIVE, self.process)).fetchall())
        return [claim for claim in map(_claim, rows) if claim.dead(now)]

    def take_over(self, claim: Claim) -> Claim | None:
        """Make a dead process's claim ours (a new attempt of the same job id); None if another process was first."""
        now = time.time()

        def work(connection):
            with _transaction(connection):
                changed = connection.execute(
                    "UPDATE training_claims SET process = ?, host = ?, pid = ?, attempt = attempt + 1, heartbeat = ?, "
                    "updated = ? WHERE key = ? AND process = ? AND attempt = ? AND status = ?",
                    (self.process, self.host, self.pid, now, now, claim.key, claim.process, claim.attempt,
                     ACTIVE)).rowcount
                if changed != 1:
                    return None
                connection.execute("DELETE FROM training_events WHERE key = ? AND attempt <= ?",
                                   (claim.key, claim.attempt))
                return _select(connection, claim.key)
        return _run(work)

    def prune(self) -> None:
        """Forget claims that ended over ENDED_KEPT_SECONDS ago, and their events."""
        cutoff = time.time() - ENDED_KEPT_SECONDS

        def work(connection):
            with _transaction(connection):
                connection.execute("DELETE FROM training_events WHERE key IN (SELECT key FROM training_claims "
                                   "WHERE status != ? AND updated < ?)", (ACTIVE, cutoff))
                connection.execute("DELETE FROM training_claims WHERE status != ? AND updated < ?", (ACTIVE, cutoff))
        _run(work)
