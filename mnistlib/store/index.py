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

from mnistlib.store import class_tables, folders

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


_lock = threading.RLock()
_connections: dict[str, tuple[sqlite3.Connection, tuple]] = {}


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
        class_tables.create(connection)
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
            connection = _open(path)
        except sqlite3.DatabaseError:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                damaged_file = Path(f"{path}{suffix}")
                if damaged_file.exists():
                    os.replace(damaged_file, f"{path}.damaged-{stamp}{suffix}")
            connection = _open(path)
            # The model rows are rebuilt from the folders; the class's own tables have no other copy.
            class_tables.salvage(connection, Path(f"{path}.damaged-{stamp}"))
        class_tables.migrate_students_json(connection, path.parent)  # once, under the lock: one process does it
        return connection


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
def transaction(connection: sqlite3.Connection, counted: bool = True):
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error), counting the change for watchers (generation()) unless
    counted is False (the job journal: no page that watches the counter shows its rows)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        if counted:
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
    folders.remove_abandoned_saves()
    on_disk = set(folders.model_ids())
    indexed = {row[0] for row in connection.execute("SELECT id FROM models UNION SELECT id FROM broken")}
    added = [_read_folder(model_id) for model_id in on_disk - indexed]
    # Only a change of the models counts for the watchers: a check that finds the folders as indexed (every
    # FULL_CHECK_SECONDS, or after a temporary folder came and went) must not rerun the class board.
    with transaction(connection, counted=bool(added or indexed - on_disk)):
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
