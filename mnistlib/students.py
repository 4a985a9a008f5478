"""The class: students who gave their name, each bound to a secret their browser keeps, and the teacher.

A name is claimed once; the browser that claimed it gets a random token (kept in a cookie), and only the
token's SHA-256 is stored, in the store's database (store/class_tables.py; a students.json from before is
imported once). Another browser typing the same name is
refused, so a name typed in a form never grants anyone's rights. The teacher signs in with the password in
MNISTLIB_TEACHER_PASSWORD, compared in constant time and never shown or stored.
"""

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time

from mnistlib import names
from mnistlib.store import folders, index
from mnistlib.store.ownership import TEACHER, TEACHER_KEY, Actor

MAX_NAME_LENGTH = 40
RESERVED = {TEACHER_KEY, "cli", "admin", "anonymous", "everyone", "class"}
SCHOOL_ACCOUNT_PREFIX = "school:"  # keys of students signed in with the school's OpenID login (see school_account)
TEACHER_SESSION_SECONDS = 12 * 3600


class NameTaken(ValueError):
    """Another browser already claimed this name."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _edit(work):
    """work(connection) in one immediate transaction of the store's database: two servers never lose a change."""

    def in_transaction(connection):
        with index.transaction(connection):
            return work(connection)

    return index.run(in_transaction)


def _query(sql: str, values=()) -> list[tuple]:
    return index.run(lambda connection: connection.execute(sql, values).fetchall())


def register(name: str) -> tuple[Actor, str]:
    """Claim a name for this browser: (the student, the secret token to keep in its cookie).
    ValueError for an unusable name; NameTaken when another browser has it."""
    display = names.clean(name, MAX_NAME_LENGTH, "Your name")
    key = names.key(display)
    if key in RESERVED or key.startswith(SCHOOL_ACCOUNT_PREFIX):
        raise ValueError(f"“{display}” is reserved in MNIST Lab; choose another name.")
    token = secrets.token_urlsafe(32)

    def claim(connection):
        try:
            connection.execute("INSERT INTO students VALUES (?, ?, ?, ?)",
                               (key, display, _digest(token), folders.now()))
        except sqlite3.IntegrityError:
            raise NameTaken(f"Someone in this class already uses the name “{display}”. If that is you on another "
                            "computer, ask your teacher to free the name (Class board → Students), or choose "
                            "another name.") from None

    _edit(claim)
    return Actor(key, display), token


def school_account(email: str, name: str) -> Actor:
    """The student the school's OpenID login vouches for (st.user): keyed by their e-mail, which no typed name
    can claim."""
    display = names.clean(name or email, MAX_NAME_LENGTH, "Your name")
    return Actor(SCHOOL_ACCOUNT_PREFIX + names.key(email or display), display)


def from_token(token) -> Actor | None:
    """The student whose browser holds this token, or None (unknown, freed, or not a token at all)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    # Looked up by the token's SHA-256: timing can tell nothing about a token whose digest nobody can choose.
    found = _query("SELECT key, display FROM students WHERE token_sha256 = ?", (_digest(token),))
    return Actor(*found[0]) if found else None


def roster() -> list[dict]:
    """The students who gave their names: [{key, display, created}], in the order they joined."""
    return [{"key": key, "display": display, "created": created}
            for key, display, created in _query("SELECT key, display, created FROM students ORDER BY created, key")]


def free_name(key: str, actor: Actor) -> None:
    """The teacher frees a student's name (e.g. they changed computer): the next browser to type it gets it.
    Their models stay theirs."""
    if not actor.teacher:
        from mnistlib.store.ownership import PermissionDenied

        raise PermissionDenied("Only the teacher can free a student's name. Nothing was changed.")
    _edit(lambda connection: connection.execute("DELETE FROM students WHERE key = ?", (key,)))


# ## The teacher


def teacher_password_set() -> bool:
    return bool(os.environ.get("MNISTLIB_TEACHER_PASSWORD"))


def teacher_sign_in(password) -> str | None:
    """A teacher session token when the password is right (constant-time comparison), else None."""
    expected = os.environ.get("MNISTLIB_TEACHER_PASSWORD", "")
    if not expected or not isinstance(password, str):
        return None
    # Comparing digests keeps the comparison's time independent of the password's length too.
    if not hmac.compare_digest(_digest(password), _digest(expected)):
        return None
    token = secrets.token_urlsafe(32)
    now = time.time()

    def start(connection):
        connection.execute("DELETE FROM teacher_sessions WHERE expiry <= ?", (now,))
        connection.execute("INSERT INTO teacher_sessions VALUES (?, ?)", (_digest(token), now + TEACHER_SESSION_SECONDS))

    _edit(start)
    return token


def teacher_from_token(token) -> Actor | None:
    """The teacher, if token is a live teacher session (and a password is still configured)."""
    if not teacher_password_set() or not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    found = _query("SELECT expiry FROM teacher_sessions WHERE digest = ?", (_digest(token),))
    return TEACHER if found and found[0][0] > time.time() else None


def teacher_sign_out(token) -> None:
    if isinstance(token, str):
        _edit(lambda connection: connection.execute("DELETE FROM teacher_sessions WHERE digest = ?",
                                                    (_digest(token),)))


# ## The class's settings (only the teacher changes them)


def test_revealed() -> bool:
    """Whether the teacher has revealed test accuracy on the class board (hidden until then)."""
    found = _query("SELECT value FROM settings WHERE key = 'reveal_test'")
    return bool(json.loads(found[0][0])) if found else False


def reveal_test(actor: Actor, revealed: bool) -> None:
    if not actor.teacher:
        from mnistlib.store.ownership import PermissionDenied

        raise PermissionDenied("Only the teacher can reveal or hide test accuracy. Nothing was changed.")
    _edit(lambda connection: connection.execute(
        "INSERT INTO settings VALUES ('reveal_test', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (json.dumps(bool(revealed)),)))


MAX_CLASS_NAME_LENGTH = 60


def class_name() -> str:
    """The name the teacher gave the class ("" until then), shown on Home and the board."""
    found = _query("SELECT value FROM settings WHERE key = 'class_name'")
    return json.loads(found[0][0]) if found else ""


def set_class_name(actor: Actor, name: str) -> str:
    """The teacher names the class (an empty name removes it); ValueError for an unusable name."""
    if not actor.teacher:
        from mnistlib.store.ownership import PermissionDenied

        raise PermissionDenied("Only the teacher can name the class. Nothing was changed.")
    cleaned = names.clean(name, MAX_CLASS_NAME_LENGTH, "The class's name") if (name or "").strip() else ""
    _edit(lambda connection: connection.execute(
        "INSERT INTO settings VALUES ('class_name', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (json.dumps(cleaned),)))
    return cleaned
