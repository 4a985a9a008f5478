"""The class: students who gave their name, each bound to a secret their browser keeps, and the teacher.

A name is claimed once; the browser that claimed it gets a random token (kept in a cookie), and only the
token's SHA-256 is stored, in the store folder's students.json. Another browser typing the same name is
refused, so a name typed in a form never grants anyone's rights. The teacher signs in with the password in
MNISTLIB_TEACHER_PASSWORD, compared in constant time and never shown or stored.
"""

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import time

from mnistlib import config, names
from mnistlib.store import folders
from mnistlib.store.ownership import TEACHER, TEACHER_KEY, Actor

STUDENTS_FILE = "students.json"
MAX_NAME_LENGTH = 40
RESERVED = {TEACHER_KEY, "cli", "admin", "anonymous", "everyone", "class"}
SCHOOL_ACCOUNT_PREFIX = "school:"  # keys of students signed in with the school's OpenID login (see school_account)
TEACHER_SESSION_SECONDS = 12 * 3600


class NameTaken(ValueError):
    """Another browser already claimed this name."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _path():
    return config.models_dir() / STUDENTS_FILE


@contextlib.contextmanager
def _editing():
    """The class file, read and written under an flock so two servers or threads never lose a change."""
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            values = _read()
            yield values
            folders.write_json(path, values)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read() -> dict:
    try:
        values = json.loads(_path().read_text())
    except FileNotFoundError:
        return {"students": {}, "teacher_sessions": {}, "settings": {}}
    except (OSError, ValueError) as error:
        raise RuntimeError(f"{_path()} is damaged ({error}); restore it from a backup or delete it (students "
                           "then give their names again).") from error
    values.setdefault("students", {})
    values.setdefault("teacher_sessions", {})
    values.setdefault("settings", {})
    return values


def register(name: str) -> tuple[Actor, str]:
    """Claim a name for this browser: (the student, the secret token to keep in its cookie).
    ValueError for an unusable name; NameTaken when another browser has it."""
    display = names.clean(name, MAX_NAME_LENGTH, "Your name")
    key = names.key(display)
    if key in RESERVED or key.startswith(SCHOOL_ACCOUNT_PREFIX):
        raise ValueError(f"“{display}” is reserved in MNIST Lab; choose another name.")
    token = secrets.token_urlsafe(32)
    with _editing() as values:
        if key in values["students"]:
            raise NameTaken(f"Someone in this class already uses the name “{display}”. If that is you on another "
                            "computer, ask your teacher to free the name (Class board → Students), or choose "
                            "another name.")
        values["students"][key] = {"display": display, "token_sha256": _digest(token), "created": folders.now()}
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
    digest = _digest(token)
    for key, student in _read()["students"].items():
        if hmac.compare_digest(student["token_sha256"], digest):
            return Actor(key, student["display"])
    return None


def roster() -> list[dict]:
    """The students who gave their names: [{key, display, created}], in the order they joined."""
    students = _read()["students"]
    return sorted(({"key": key, "display": value["display"], "created": value["created"]}
                   for key, value in students.items()), key=lambda student: student["created"])


def free_name(key: str, actor: Actor) -> None:
    """The teacher frees a student's name (e.g. they changed computer): the next browser to type it gets it.
    Their models stay theirs."""
    if not actor.teacher:
        from mnistlib.store.ownership import PermissionDenied

        raise PermissionDenied("Only the teacher can free a student's name. Nothing was changed.")
    with _editing() as values:
        values["students"].pop(key, None)


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
    with _editing() as values:
        now = time.time()
        sessions = {digest: expiry for digest, expiry in values["teacher_sessions"].items() if expiry > now}
        sessions[_digest(token)] = now + TEACHER_SESSION_SECONDS
        values["teacher_sessions"] = sessions
    return token


def teacher_from_token(token) -> Actor | None:
    """The teacher, if token is a live teacher session (and a password is still configured)."""
    if not teacher_password_set() or not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    expiry = _read()["teacher_sessions"].get(_digest(token))
    return TEACHER if expiry and expiry > time.time() else None


def teacher_sign_out(token) -> None:
    if isinstance(token, str):
        with _editing() as values:
            values["teacher_sessions"].pop(_digest(token), None)


# ## The class's settings (only the teacher changes them)


def test_revealed() -> bool:
    """Whether the teacher has revealed test accuracy on the class board (hidden until then)."""
    return bool(_read()["settings"].get("reveal_test", False))


def reveal_test(actor: Actor, revealed: bool) -> None:
    if not actor.teacher:
        from mnistlib.store.ownership import PermissionDenied

        raise PermissionDenied("Only the teacher can reveal or hide test accuracy. Nothing was changed.")
    with _editing() as values:
        values["settings"]["reveal_test"] = bool(revealed)
