"""The class's own tables in the store's database: students, teacher sessions, class settings and challenges.

Unlike the model rows (a cache of the folders, dropped and rebuilt when the schema changes), these are the only copy:
a schema change never drops them, a damaged database file is salvaged into the new one (salvage()), and a
students.json from before they moved here is imported once (migrate_students_json()).
"""

import json
import logging
import sqlite3
from pathlib import Path

LOG = logging.getLogger(__name__)
STUDENTS_JSON = "students.json"  # the class's file before it moved into the database (read once, then renamed)
TABLES = ("students", "teacher_sessions", "settings", "challenges")
SCHEMA = """
CREATE TABLE IF NOT EXISTS students (key TEXT PRIMARY KEY, display TEXT NOT NULL, token_sha256 TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS students_by_token ON students (token_sha256);
CREATE TABLE IF NOT EXISTS teacher_sessions (digest TEXT PRIMARY KEY, expiry REAL NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS challenges (
    id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, dataset TEXT NOT NULL,
    min_validation_accuracy REAL NOT NULL, max_parameters INTEGER, max_epochs INTEGER, max_train_images INTEGER,
    max_seconds REAL, closes TEXT, created TEXT NOT NULL, ended TEXT);
CREATE INDEX IF NOT EXISTS challenges_by_dataset ON challenges (dataset, ended);
"""


def create(connection: sqlite3.Connection) -> None:
    """Create the class's tables if they are not there (idempotent; never drops anything)."""
    connection.executescript(SCHEMA)


def migrate_students_json(connection: sqlite3.Connection, folder: Path) -> int:
    """Import folder/students.json (the format used until the class moved into the database) once, then rename it
    students.json.migrated so it is never read again; returns how many students it held (0: no file)."""
    path = folder / STUDENTS_JSON
    if not path.exists():
        return 0
    try:
        values = json.loads(path.read_text())
        students = values.get("students", {})
        rows = [(key, student["display"], student["token_sha256"], student["created"])
                for key, student in students.items()]
        sessions = list(values.get("teacher_sessions", {}).items())
        settings = [(key, json.dumps(value)) for key, value in values.get("settings", {}).items()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        LOG.error("%s could not be read (%s): it was left as it is, and the class starts without it.", path, error)
        return 0
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany("INSERT OR IGNORE INTO students VALUES (?, ?, ?, ?)", rows)
        connection.executemany("INSERT OR IGNORE INTO teacher_sessions VALUES (?, ?)", sessions)
        connection.executemany("INSERT OR IGNORE INTO settings VALUES (?, ?)", settings)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    path.replace(path.with_name(STUDENTS_JSON + ".migrated"))
    LOG.warning("Moved %d student(s), %d teacher session(s) and %d setting(s) from %s into the store's database; "
                "the file is kept as %s.migrated.", len(rows), len(sessions), len(settings), path, STUDENTS_JSON)
    return len(rows)


def salvage(connection: sqlite3.Connection, damaged: Path) -> None:
    """Copy what can still be read of the class's tables from a damaged database file into this one."""
    if not damaged.exists():
        return
    for table in TABLES:
        try:
            source = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
            try:
                rows = source.execute(f"SELECT * FROM {table}").fetchall()
            finally:
                source.close()
        except sqlite3.DatabaseError as error:
            LOG.error("The damaged store database %s: its %s could not be read (%s).", damaged, table, error)
            continue
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            connection.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", rows)
            LOG.warning("Recovered %d row(s) of %s from the damaged store database %s.", len(rows), table, damaged)
