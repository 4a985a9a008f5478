"""The store's index in SQLite (WAL mode): lists, filters and sorts models without reading every card.

The folders stay the source of truth. The index notices folders added or removed behind its back (a teacher
restoring a backup) by the store folder's modification time, and at least every FULL_CHECK_SECONDS; a damaged
or missing index file is moved aside and rebuilt from the folders. One connection per process, used under a
lock; SQLite's own locking (busy timeout) keeps several processes (the server, the CLI) from corrupting it.
"""

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import NamedTuple

from mnistlib.store import folders

INDEX_FILE = "index.sqlite"
SCHEMA_VERSION = 3  # raise when the tables change: an older index is then rebuilt from the folders
FULL_CHECK_SECONDS = 30.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY, name TEXT, dataset TEXT, subset TEXT, trained_by TEXT, created TEXT, request_key TEXT,
    architecture TEXT, settings TEXT, epochs_run INTEGER, epochs_requested INTEGER, parameters INTEGER,
    training_seconds REAL, val_accuracy REAL, test_accuracy REAL, test_loss REAL, card TEXT,
    owner_count INTEGER DEFAULT 0, first_name TEXT);
CREATE INDEX IF NOT EXISTS models_by_dataset ON models (dataset, created, id);
CREATE INDEX IF NOT EXISTS models_by_request ON models (request_key);
CREATE INDEX IF NOT EXISTS models_by_created ON models (created, id);
CREATE TABLE IF NOT EXISTS owners (
    model_id TEXT, key TEXT, display TEXT, name TEXT, added TEXT, PRIMARY KEY (model_id, key));
CREATE INDEX IF NOT EXISTS owners_by_key ON owners (key);
CREATE TABLE IF NOT EXISTS broken (id TEXT PRIMARY KEY, message TEXT);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, request_key TEXT, request TEXT, owners TEXT, status TEXT, origin TEXT,
    submitted TEXT, updated TEXT, message TEXT, model_id TEXT);
"""
ENTRY_COLUMNS = ("id", "name", "dataset", "subset", "trained_by", "created", "architecture", "settings", "epochs_run",
                 "epochs_requested", "parameters", "training_seconds", "val_accuracy", "test_accuracy")

_lock = threading.RLock()
_connections: dict[str, tuple[sqlite3.Connection, tuple]] = {}


class ModelEntry(NamedTuple):
    """One stored model as the index lists it (no history): what pickers and the class board show."""

    id: str
    name: str  # as the viewer named it if it is theirs, else as its first owner named it
    dataset: str
    subset: str
    trained_by: str
    created: str
    architecture: str
    settings: str  # ModelSpec.describe()
    epochs_run: int
    epochs_requested: int
    parameters: int
    training_seconds: float
    val_accuracy: float | None
    test_accuracy: float
    owners: int  # how many students have it in their list
    mine: bool  # the viewer has it in their list

    def label(self) -> str:
        """A readable line for menus: name · epochs · validation (or test) accuracy."""
        return folders.label(self.name, self.epochs_run, self.val_accuracy, self.test_accuracy)


def _path() -> Path:
    return folders.root() / INDEX_FILE


def _identity(path: Path):
    try:
        status = path.stat()
        return status.st_dev, status.st_ino
    except FileNotFoundError:
        return None


def _open(path: Path) -> sqlite3.Connection:
    """A connection with the schema in place; sqlite3.DatabaseError if the file is not a sound database."""
    connection = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("the index failed SQLite's integrity check")
        if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            connection.executescript("".join(f"DROP TABLE IF EXISTS {table};"
                                             for table in ("meta", "models", "owners", "broken", "jobs")))
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.executescript(SCHEMA)
    except BaseException:
        connection.close()
        raise
    return connection


@contextlib.contextmanager
def _rebuild_lock():
    folders.root().mkdir(parents=True, exist_ok=True)
    with open(folders.root() / ".index.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _reopen(path: Path) -> sqlite3.Connection:
    """Open the index; one that is still damaged once this process holds the rebuild lock is moved aside (another
    process may have rebuilt it meanwhile) and a new one is started, filled from the folders by refresh()."""
    with _rebuild_lock():
        try:
            return _open(path)
        except sqlite3.DatabaseError:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                damaged_file = Path(f"{path}{suffix}")
                if damaged_file.exists():
                    os.replace(damaged_file, f"{path}.damaged-{stamp}{suffix}")
            return _open(path)


def connect(damaged: bool = False) -> sqlite3.Connection:
    """This process's connection to the store's index (reopened if the file was replaced or found damaged)."""
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        cached = _connections.get(str(path))
        identity = _identity(path)
        if cached is not None and not damaged and identity is not None and cached[1] == identity:
            return cached[0]
        if cached is not None:
            cached[0].close()
        connection = _reopen(path)
        _connections[str(path)] = (connection, _identity(path))
        return connection


def run(work):
    """Run work(connection) under the process lock, with the index refreshed; a damaged index is rebuilt once."""
    with _lock:
        try:
            connection = connect()
            refresh(connection)
            return work(connection)
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise
            connection = connect(damaged=True)
            refresh(connection, force=True)
            return work(connection)


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection):
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error), counting the change for watchers (generation())."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
                           "SET value = CAST(value AS INTEGER) + 1")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _meta(connection, key: str, default=None):
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def refresh(connection: sqlite3.Connection, force: bool = False) -> None:
    """Bring the index in line with the folders when the store folder changed (or after FULL_CHECK_SECONDS)."""
    try:
        mtime = str(folders.root().stat().st_mtime_ns)
    except FileNotFoundError:
        mtime = "none"
    checked = float(_meta(connection, "checked_at", 0) or 0)
    if not force and _meta(connection, "folders_mtime") == mtime and time.time() - checked < FULL_CHECK_SECONDS:
        return
    on_disk = set(folders.model_ids())
    indexed = {row[0] for row in connection.execute("SELECT id FROM models UNION SELECT id FROM broken")}
    added = [_read_folder(model_id) for model_id in on_disk - indexed]
    with transaction(connection):
        for model_id in indexed - on_disk:
            _delete_rows(connection, model_id)
        for model_id, card, owners, message in added:
            if card is None:
                connection.execute("INSERT OR REPLACE INTO broken VALUES (?, ?)", (model_id, message))
            else:
                _write_rows(connection, card, owners)
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('folders_mtime', ?)", (mtime,))
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('checked_at', ?)", (str(time.time()),))


def _read_folder(model_id: str):
    """(id, card, owners, None) of a folder, or (id, None, None, message) when it cannot be read."""
    try:
        return model_id, folders.read_card(model_id), folders.read_owners(model_id), None
    except (folders.CorruptModelError, folders.ModelNotFoundError) as error:
        return model_id, None, None, str(error)


def _parameters(card: folders.ModelCard) -> int:
    if card.parameters:
        return card.parameters
    from mnistlib import models

    try:  # cards stored before the count was recorded: the MNIST-sized model
        return models.count_parameters(models.ModelSpec.from_dict(card.spec))
    except (ValueError, TypeError):
        return 0


def _write_rows(connection, card: folders.ModelCard, owners: list) -> None:
    from mnistlib import models

    try:
        settings = models.ModelSpec.from_dict(card.spec).describe()
    except (ValueError, TypeError):
        settings = json.dumps(card.spec)
    connection.execute(
        "INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)",
        (card.id, card.name, card.dataset, card.subset, card.trained_by, card.created, card.request_key,
         card.spec.get("architecture", "dense"), settings, card.epochs_run, card.epochs_requested or card.epochs_run,
         _parameters(card), card.training_seconds, card.val_accuracy, card.test_accuracy, card.test_loss,
         json.dumps(card.to_dict())))
    connection.execute("DELETE FROM broken WHERE id = ?", (card.id,))
    _write_owner_rows(connection, card.id, owners)


def _write_owner_rows(connection, model_id: str, owners: list) -> None:
    connection.execute("DELETE FROM owners WHERE model_id = ?", (model_id,))
    connection.executemany("INSERT INTO owners VALUES (?, ?, ?, ?, ?)",
                           [(model_id, owner.key, owner.display, owner.name, owner.added) for owner in owners])
    # Kept on the model's row too, so listing thousands of models needs no per-row look-ups.
    first = min(owners, key=lambda owner: owner.added).name if owners else None
    connection.execute("UPDATE models SET owner_count = ?, first_name = ? WHERE id = ?", (len(owners), first, model_id))


def _delete_rows(connection, model_id: str) -> None:
    for table, column in (("models", "id"), ("owners", "model_id"), ("broken", "id")):
        connection.execute(f"DELETE FROM {table} WHERE {column} = ?", (model_id,))


# ## What the rest of the store calls


def record(card: folders.ModelCard, owners: list) -> None:
    """Index a model just saved (or whose folder changed)."""
    def work(connection):
        with transaction(connection):
            _write_rows(connection, card, owners)
    run(work)


def record_owners(model_id: str, owners: list) -> None:
    def work(connection):
        with transaction(connection):
            _write_owner_rows(connection, model_id, owners)
    run(work)


def mark_broken(model_id: str, message: str) -> None:
    """List a model whose files turned out damaged as broken (not among the readable ones)."""
    def work(connection):
        with transaction(connection):
            _delete_rows(connection, model_id)
            connection.execute("INSERT OR REPLACE INTO broken VALUES (?, ?)", (model_id, message))
    run(work)


def forget(model_id: str) -> None:
    def work(connection):
        with transaction(connection):
            _delete_rows(connection, model_id)
    run(work)


def rebuild() -> int:
    """Rebuild the index from the folders (e.g. after restoring a backup); returns how many models it lists."""
    def work(connection):
        with transaction(connection):
            for table in ("models", "owners", "broken"):
                connection.execute(f"DELETE FROM {table}")
            connection.execute("DELETE FROM meta WHERE key IN ('folders_mtime', 'checked_at')")
        refresh(connection, force=True)
        return connection.execute("SELECT COUNT(*) FROM models").fetchone()[0]
    return run(work)


def entries(dataset: str | None = None, viewer: str = "", scope: str = "class") -> list[ModelEntry]:
    """Stored models, the viewer's own first, then newest first; scope "class" (all), "mine" (the viewer's)
    or "owner:KEY" (one student's, e.g. the teacher's). Two queries that need no sorting (indexes on the
    owner and on the creation time), so 10,000 models list in milliseconds."""
    if scope != "class" and scope != "mine" and not scope.startswith("owner:"):
        raise ValueError(f"Unknown scope {scope!r}.")
    columns = ", ".join(f"m.{column}" for column in ENTRY_COLUMNS[2:])
    in_dataset = "AND m.dataset = ?" if dataset is not None else ""
    chosen = (dataset,) if dataset is not None else ()
    owner = viewer if scope in ("class", "mine") else scope.removeprefix("owner:")

    def work(connection):
        owned = connection.execute(
            f"SELECT m.id, v.name, {columns}, m.owner_count, v.key = ? FROM owners v JOIN models m ON m.id = v.model_id "
            f"WHERE v.key = ? {in_dataset} ORDER BY m.created DESC, m.id DESC", (viewer, owner, *chosen)).fetchall()
        if scope != "class":
            return owned
        others = connection.execute(
            f"SELECT m.id, COALESCE(m.first_name, m.name), {columns}, m.owner_count, 0 FROM models m "
            f"{'WHERE m.dataset = ?' if dataset is not None else ''} ORDER BY m.created DESC, m.id DESC",
            chosen).fetchall()
        mine = {row[0] for row in owned}
        return owned + [row for row in others if row[0] not in mine]

    return list(map(ModelEntry._make, run(work)))


def broken(dataset: str | None = None) -> list[folders.BrokenModel]:
    """Folders whose card cannot be read (any dataset: their dataset is unknown)."""
    rows = run(lambda connection: connection.execute("SELECT id, message FROM broken ORDER BY id DESC").fetchall())
    return [folders.BrokenModel(*row) for row in rows]


def card(model_id: str) -> folders.ModelCard | None:
    """The indexed card of a model, or None if the index does not list it."""
    row = run(lambda connection: connection.execute("SELECT card FROM models WHERE id = ?", (model_id,)).fetchone())
    return folders.ModelCard.from_dict(json.loads(row[0])) if row else None


def owners(model_id: str) -> list[folders.Owner]:
    rows = run(lambda connection: connection.execute(
        "SELECT key, display, name, added FROM owners WHERE model_id = ? ORDER BY added", (model_id,)).fetchall())
    return [folders.Owner(*row) for row in rows]


def finished_with_key(request_key: str) -> str | None:
    """The newest model trained from exactly this request for all its epochs (not stopped early), or None."""
    row = run(lambda connection: connection.execute(
        "SELECT id FROM models WHERE request_key = ? AND epochs_run >= epochs_requested "
        "ORDER BY created DESC LIMIT 1", (request_key,)).fetchone())
    return row[0] if row else None


def generation() -> int:
    """A number that changes whenever the index changes (cheap to poll: the class board watches it)."""
    return int(run(lambda connection: _meta(connection, "generation", 0)) or 0)
