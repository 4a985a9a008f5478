"""Slowing down password guessing: after a few wrong tries from one browser or address, each further try waits.

One guard is shared by every session of the server process (module state, protected by a lock). A try is keyed
by whatever identifies where it comes from (the browser's session, the client's address); the wait applies when
any of its keys is waiting, so a script that drops its cookies is still slowed down by its address.
"""

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    allowed_at: float = 0.0  # clock time before which a try from this key is refused unchecked


class SignInGuard:
    """Counts wrong tries per key; after free_tries of them, each further try waits first_wait seconds, doubling
    after every wrong try, at most max_wait. A right try clears its keys; a key is forgotten after forget_after
    seconds without a wrong try."""

    def __init__(self, what: str, free_tries: int = 3, first_wait: float = 2.0, max_wait: float = 300.0,
                 forget_after: float = 3600.0, clock=time.monotonic):
        if free_tries < 0 or first_wait <= 0 or max_wait < first_wait or forget_after < max_wait:
            raise ValueError("SignInGuard needs free_tries >= 0 and 0 < first_wait <= max_wait <= forget_after.")
        self.what, self.free_tries, self.first_wait, self.max_wait = what, free_tries, first_wait, max_wait
        self.forget_after, self.clock = forget_after, clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def __repr__(self):
        return f"SignInGuard({self.what!r}, free_tries={self.free_tries}, keys={len(self._records)})"

    def wait_seconds(self, keys) -> float:
        """Seconds to wait before a try from these keys is checked (0 when it may be checked now)."""
        now = self.clock()
        with self._lock:
            allowed = [self._records[key].allowed_at for key in _usable(keys) if key in self._records]
        return max([0.0] + [at - now for at in allowed])

    def failed(self, keys) -> float:
        """Record a wrong try from these keys (logged, without the secret); the seconds the next try must wait."""
        now = self.clock()
        keys = _usable(keys)
        with self._lock:
            self._forget_old(now)
            wait = 0.0
            for key in keys:
                record = self._records.setdefault(key, _Record())
                record.failures += 1
                record.last_failure = now
                if record.failures >= self.free_tries:
                    doublings = record.failures - self.free_tries
                    record.allowed_at = now + min(self.first_wait * 2 ** min(doublings, 60), self.max_wait)
                wait = max(wait, record.allowed_at - now)
            failures = max([self._records[key].failures for key in keys] or [0])
        log.warning("Wrong %s from %s (wrong try %d in a row; the next try waits %.0f s).",
                    self.what, ", ".join(keys) or "an unknown client", failures, wait)
        return wait

    def succeeded(self, keys) -> None:
        """A right try: these keys start afresh."""
        with self._lock:
            for key in _usable(keys):
                self._records.pop(key, None)

    def clear(self) -> None:
        """Forget every key (a restart does the same)."""
        with self._lock:
            self._records.clear()

    def _forget_old(self, now: float) -> None:
        for key in [key for key, record in self._records.items() if now - record.last_failure > self.forget_after]:
            del self._records[key]


def _usable(keys) -> list[str]:
    return sorted({str(key) for key in keys if key})


def wait_sentence(seconds: float) -> str:
    """The sentence a page shows while tries are refused, with the wait rounded up to whole seconds."""
    whole = max(1, int(-(-seconds // 1)))
    amount = f"{whole} second{'s' if whole != 1 else ''}" if whole < 120 else f"{-(-whole // 60)} minutes"
    return f"Too many wrong passwords from this browser or address: wait {amount}, then try again."


# The teacher's password (dashboard.identity): one guard for the whole server process.
TEACHER_PASSWORD = SignInGuard("teacher password")
