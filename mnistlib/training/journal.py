"""The server's jobs, recorded in the store's database so that a restart neither forgets nor silently drops them.

On start the server claims the store (an flock held for its lifetime: a second live server is told apart from a
dead one), queues again what was queued, and ends what was running as failed with a message saying so.
"""

import fcntl
import json
import time
from datetime import UTC, datetime, timedelta

from mnistlib import config
from mnistlib.store import index
from mnistlib.store.ownership import Actor

RESTARTED = ("The server restarted while this training was running, so it was lost. Train again: the same "
             "settings and seed give the same model.")
KEEP_DAYS = 14


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record(job, status: str = "queued") -> None:
    """Write (or rewrite) a job's row: its request, owners and status."""
    owners = json.dumps([{"key": owner.key, "display": owner.display} for owner in job.owners])

    def work(connection):
        with index.transaction(connection, counted=False):
            connection.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, 'server', ?, ?, '', NULL) ON CONFLICT(id) DO UPDATE SET "
                "owners = excluded.owners, status = excluded.status, updated = excluded.updated",
                (job.id, job.key, json.dumps(job.request.to_dict()), owners, status, _now(), _now()))
    index.run(work)


def update(job_id: str, status: str, message: str = "", model_id: str | None = None) -> None:
    def work(connection):
        with index.transaction(connection, counted=False):
            connection.execute("UPDATE jobs SET status = ?, message = ?, model_id = ?, updated = ? WHERE id = ?",
                               (status, message, model_id, _now(), job_id))
    index.run(work)


def load(job_id: str) -> dict | None:
    """A recorded job as a dict (id, request, owners, status, message, model_id), or None."""
    row = index.run(lambda connection: connection.execute(
        "SELECT id, request, owners, status, message, model_id, submitted FROM jobs WHERE id = ?",
        (job_id,)).fetchone())
    return _as_dict(row) if row else None


def unfinished() -> list[dict]:
    """Jobs that were queued, starting, running or paused when their server stopped, oldest first."""
    rows = index.run(lambda connection: connection.execute(
        "SELECT id, request, owners, status, message, model_id, submitted FROM jobs "
        "WHERE status IN ('queued', 'starting', 'running', 'paused') ORDER BY submitted, id").fetchall())
    return [_as_dict(row) for row in rows]


def _as_dict(row) -> dict:
    owners = [Actor(owner["key"], owner["display"]) for owner in json.loads(row[2] or "[]")]
    return {"id": row[0], "request": json.loads(row[1]), "owners": owners, "status": row[3], "message": row[4],
            "model_id": row[5], "submitted": row[6]}


def prune() -> None:
    """Forget ended jobs older than KEEP_DAYS."""
    cutoff = (datetime.now(UTC) - timedelta(days=KEEP_DAYS)).isoformat(timespec="seconds")

    def work(connection):
        with index.transaction(connection, counted=False):
            connection.execute("DELETE FROM jobs WHERE status IN ('finished', 'stopped', 'failed') AND updated < ?",
                               (cutoff,))
    index.run(work)


def claim_server(wait_seconds: float = 0.0):
    """The store's server lock (an open file; keep it for the server's lifetime), or None if another live server
    holds it. A server killed even by SIGKILL releases it: the kernel drops its flock."""
    path = config.models_dir() / ".server.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                return None
            time.sleep(0.1)
