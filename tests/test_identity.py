"""Who uses a browser: a name given once (bound to a token), the teacher's password, the school's OpenID login."""

import pytest

from mnistlib import students
from tests.page_runs import run_page


@pytest.fixture(autouse=True)
def class_folder(models_dir, monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    monkeypatch.delenv("MNISTLIB_TEACHER_PASSWORD", raising=False)


def test_a_name_is_bound_to_the_browser_that_claimed_it():
    ada, token = students.register("  Ada  Lovelace ")
    assert ada.display == "Ada Lovelace" and students.from_token(token) == ada
    with pytest.raises(students.NameTaken):
        students.register("ADA lovelace")  # the same name typed in another browser
    assert students.from_token("x" * 43) is None and students.from_token(None) is None


@pytest.mark.parametrize("name", ["teacher", "Teacher", "school:ada@example.org", "cli"])
def test_reserved_names_and_school_account_keys_cannot_be_claimed(name):
    with pytest.raises(ValueError, match="reserved"):
        students.register(name)


def test_a_school_account_is_keyed_by_its_email():
    account = students.school_account("Ada@Example.org", "Ada")
    assert account.key == "school:ada@example.org" and account.display == "Ada" and not account.teacher


def test_the_teacher_password_is_checked_and_sessions_expire(monkeypatch):
    assert students.teacher_sign_in("anything") is None  # no password configured: no teacher at all
    monkeypatch.setenv("MNISTLIB_TEACHER_PASSWORD", "s3cret")
    assert students.teacher_sign_in("s3cre") is None and students.teacher_sign_in("s3cret ") is None
    token = students.teacher_sign_in("s3cret")
    assert students.teacher_from_token(token).teacher
    students.teacher_sign_out(token)
    assert students.teacher_from_token(token) is None
    monkeypatch.setattr(students, "TEACHER_SESSION_SECONDS", -1)
    assert students.teacher_from_token(students.teacher_sign_in("s3cret")) is None


def test_the_sidebar_offers_the_school_login_only_where_it_is_configured():
    plain = run_page("app_pages/home.py")
    assert "school_login" not in [button.key for button in plain.button]

    from streamlit.testing.v1 import AppTest

    from tests.page_runs import REPO

    app = AppTest.from_file(str(REPO / "app_pages/home.py"), default_timeout=90)
    app.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                           "client_id": "lab", "client_secret": "y", "server_metadata_url":
                           "https://id.example.org/.well-known/openid-configuration"}
    app.run()
    assert not app.exception
    assert "school_login" in [button.key for button in app.button]
    assert "sidebar_name_text" in [text.key for text in app.text_input]  # a name still works
