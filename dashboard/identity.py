"""Who is using this browser: a student who gave their name once (kept in a cookie), or the teacher.

The name is remembered across reloads by a cookie holding a random token (the server keeps only its
SHA-256, in mnistlib.students); where the school configured OpenID login, `st.user` is used instead. Rights
are decided on the server from this session's identity, never from a URL or a form.
"""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from mnistlib import names, sign_in_guard, store, students

STUDENT_COOKIE, TEACHER_COOKIE = "mnistlab_student", "mnistlab_teacher"
COOKIE_DAYS = 180

# Writes (or, with an empty value, deletes) a cookie for the whole app from the browser: st.context.cookies is
# read-only, and a cookie set here is what the next page load sends back to the server.
_set_cookie = st.components.v2.component("mnistlab_set_cookie", js="""
export default function (component) {
  const { data } = component;
  if (!data || !data.name) return;
  const value = data.value ? encodeURIComponent(data.value) : "";
  const maxAge = data.value ? data.max_age : 0;
  document.cookie = `${data.name}=${value}; Max-Age=${maxAge}; Path=/; SameSite=Lax`;
}
""")


def _remember(name: str, value: str, key: str) -> None:
    """Ask the browser to keep (value) or forget ("" ) a cookie."""
    _set_cookie(data={"name": name, "value": value, "max_age": COOKIE_DAYS * 86400}, key=key, height=0)


def _logged_in_user():
    """The student given by the school's OpenID login (st.user), or None when login is not configured."""
    try:
        if not st.user.is_logged_in:
            return None
        return students.school_account(str(st.user.get("email") or ""), str(st.user.get("name") or ""))
    except Exception:  # noqa: BLE001 — no login configured, or a profile without a usable name
        return None


def school_login_configured() -> bool:
    """Whether the school configured OpenID login ([auth] in .streamlit/secrets.toml; see README)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 — no secrets file at all
        return False


def current_actor():
    """This session's student or teacher (a store.Actor), or None before they give their name."""
    if "actor" not in st.session_state:
        cookies = st.context.cookies
        actor = students.teacher_from_token(cookies.get(TEACHER_COOKIE))
        actor = actor or _logged_in_user() or students.from_token(cookies.get(STUDENT_COOKIE))
        st.session_state["actor"] = actor
    return st.session_state["actor"]


def sidebar_section() -> None:
    """Your name (given once), or who you are; and the teacher's sign-in."""
    actor = current_actor()
    pending = st.session_state.pop("cookie_to_write", None)
    if pending:
        _remember(*pending, key=f"cookie_{pending[0]}")
    if actor is None:
        if school_login_configured():
            st.button("Log in with your school account", key="school_login", on_click=st.login, type="primary")
            st.caption("Or give a name for this browser:")
        name_form(key="sidebar_name")
    elif actor.teacher:
        st.markdown("**Teacher** — signed in")
        if st.button("Sign out", key="teacher_sign_out"):
            students.teacher_sign_out(st.context.cookies.get(TEACHER_COOKIE))
            _forget(TEACHER_COOKIE)
    elif _logged_in_user() is not None:
        st.markdown(f"**You:** {names.markdown_escape(actor.display)} (school account)")
        if st.button("Log out", key="school_logout"):
            st.session_state.pop("actor", None)
            st.logout()
    else:
        st.markdown(f"**You:** {names.markdown_escape(actor.display)}")
        if st.button("Not you?", key="identity_forget", help="Forget this name in this browser (your models stay "
                     "yours: type the same name again on this browser to get them back)."):
            _forget(STUDENT_COOKIE)
    if not actor or not actor.teacher:
        teacher_form()


def _forget(cookie: str) -> None:
    st.session_state["actor"] = None
    st.session_state["cookie_to_write"] = (cookie, "")
    st.rerun()


def name_form(key: str) -> None:
    """Ask for the student's name once; on success the browser keeps it (a cookie) for next time."""
    with st.form(key, border=False):
        name = st.text_input("Your name", max_chars=students.MAX_NAME_LENGTH, key=f"{key}_text",
                             help="Given once: your models are kept under it, and the class board shows it.")
        submitted = st.form_submit_button("Save my name")
    if submitted:
        try:
            actor, token = students.register(name)
        except ValueError as error:  # a bad name, or one another browser already has (shown as typed, not markup)
            st.error(names.markdown_escape(str(error)))
            return
        st.session_state["actor"] = actor
        st.session_state["cookie_to_write"] = (STUDENT_COOKIE, token)
        st.rerun()


def teacher_form() -> None:
    """The teacher's sign-in (only when MNISTLIB_TEACHER_PASSWORD is set on the server)."""
    if not students.teacher_password_set():
        return
    with st.expander("Teacher"), st.form("teacher_sign_in", border=False, clear_on_submit=True):
        password = st.text_input("Teacher password", type="password", key="teacher_password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        guard, keys = sign_in_guard.TEACHER_PASSWORD, _client_keys()
        wait = guard.wait_seconds(keys)
        if wait > 0:  # refused without checking the password, so guessing cannot go faster than the waits
            st.error(f"{sign_in_guard.wait_sentence(wait)} This try was not checked.")
            return
        token = students.teacher_sign_in(password)
        if token is None:
            wait = guard.failed(keys)
            st.error(" ".join(["That is not the teacher password."] + ([sign_in_guard.wait_sentence(wait)]
                                                                         if wait > 0 else [])))
            return
        guard.succeeded(keys)
        st.session_state["actor"] = store.TEACHER
        st.session_state["cookie_to_write"] = (TEACHER_COOKIE, token)
        st.rerun()


def _client_keys() -> list[str]:
    """Where a sign-in try comes from: this browser's session and, when Streamlit knows it, the client's address."""
    context, address = get_script_run_ctx(), st.context.ip_address
    return [f"session {context.session_id}" if context else "", f"address {address}" if address else ""]


def require_actor(purpose: str = "train"):
    """This session's actor; without one, a note pointing to the name box and None (the caller disables what
    needs a name)."""
    actor = current_actor()
    if actor is None:
        st.info(f"Type your name in the sidebar (**Your name**, top left) first, so that what you {purpose} is kept "
                "as yours. You only do this once on this browser.")
    return actor
