"""The sign-in guard: free tries, then doubling waits (capped), refusals while waiting, a fresh start when right."""

import logging

import pytest

from mnistlib import sign_in_guard
from tests.page_runs import texts


class Clock:
    """A clock the test moves by hand, so the waits are checked without sleeping."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_three_free_tries_then_each_wait_doubles_up_to_the_cap(clock):
    guard = sign_in_guard.SignInGuard("password", free_tries=3, first_wait=2, max_wait=30, clock=clock)
    keys = ["session a"]
    assert [guard.failed(keys) for _ in range(2)] == [0, 0]
    assert guard.wait_seconds(keys) == 0
    waits = []
    for _ in range(6):
        waits.append(guard.failed(keys))
        assert guard.wait_seconds(keys) == waits[-1]
        clock.now += waits[-1]  # the next try comes exactly when it is allowed
        assert guard.wait_seconds(keys) == 0
    assert waits == [2, 4, 8, 16, 30, 30]


def test_a_try_during_the_wait_is_refused_and_the_right_one_works_after_it(clock):
    guard = sign_in_guard.SignInGuard("password", free_tries=3, first_wait=2, clock=clock)
    for _ in range(4):
        guard.failed(["session a"])
    clock.now += 1
    assert guard.wait_seconds(["session a"]) == pytest.approx(3)  # 4 s after the 4th wrong try, 1 s passed
    clock.now += 3
    assert guard.wait_seconds(["session a"]) == 0
    guard.succeeded(["session a"])
    assert guard.failed(["session a"]) == 0  # a right password starts the count afresh


def test_any_waiting_key_holds_the_try_so_a_new_session_from_the_same_address_waits_too(clock):
    guard = sign_in_guard.SignInGuard("password", free_tries=1, first_wait=5, clock=clock)
    guard.failed(["session a", "address 10.0.0.7"])
    assert guard.wait_seconds(["session b", "address 10.0.0.7"]) == 5
    assert guard.wait_seconds(["session b", "address 10.0.0.8"]) == 0
    assert guard.wait_seconds(["", None]) == 0  # no usable key: nothing to hold it by


def test_keys_are_forgotten_after_a_quiet_hour(clock):
    guard = sign_in_guard.SignInGuard("password", free_tries=1, first_wait=2, forget_after=3600, clock=clock)
    guard.failed(["session a"])
    clock.now += 3601
    guard.failed(["session b"])  # each wrong try also drops keys quiet for longer than forget_after
    assert "keys=1" in repr(guard)


def test_each_wrong_try_is_logged_without_the_secret(clock, caplog):
    guard = sign_in_guard.SignInGuard("teacher password", clock=clock)
    with caplog.at_level(logging.WARNING, logger="mnistlib.sign_in_guard"):
        guard.failed(["address 10.0.0.7"])
    assert "Wrong teacher password from address 10.0.0.7" in caplog.text


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        sign_in_guard.SignInGuard("password", first_wait=10, max_wait=5)


@pytest.mark.parametrize("seconds, amount", [(0.2, "1 second"), (2, "2 seconds"), (2.1, "3 seconds"),
                                             (300, "5 minutes")])
def test_the_wait_sentence_rounds_up(seconds, amount):
    assert f"wait {amount}, then try again" in sign_in_guard.wait_sentence(seconds)


def test_the_page_says_how_long_to_wait_after_repeated_wrong_passwords(models_dir, monkeypatch, clock):
    from streamlit.testing.v1 import AppTest

    from tests.page_runs import REPO

    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    monkeypatch.setenv("MNISTLIB_TEACHER_PASSWORD", "s3cret")
    guard = sign_in_guard.TEACHER_PASSWORD
    guard.clear()
    monkeypatch.setattr(guard, "clock", clock)  # the page runs in this process: its guard reads this clock
    app = AppTest.from_file(str(REPO / "app_pages/home.py"), default_timeout=120)
    app.run()

    def sign_in(password):
        app.text_input(key="teacher_password").input(password)
        next(button for button in app.button if button.label == "Sign in").click()
        app.run()
        assert not app.exception
        return texts(app, ("error",))

    for _ in range(2):
        assert sign_in("guess") == "That is not the teacher password."
    assert "wait 2 seconds" in sign_in("guess")
    refused = sign_in("s3cret")  # the right password, but inside the wait: refused without being checked
    assert "wait 2 seconds, then try again. This try was not checked." in refused
    assert app.session_state["actor"] is None
    clock.now += 2
    assert sign_in("s3cret") == ""
    assert app.session_state["actor"].teacher
    guard.clear()
