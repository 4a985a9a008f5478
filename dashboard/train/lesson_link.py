"""The Train page's "Copy lesson link": the page's settings as a link, with the controls chosen to be locked or hidden
(read back by dashboard.train.settings)."""

from urllib.parse import urlencode

import streamlit as st

from dashboard import layout
from dashboard.train.settings import SETTINGS, lesson, lesson_query, values_of
from mnistlib import models


def page_address() -> str:
    """This page's address as the browser sees it (st.context.url), else built from the request's Host header, else
    the page's path alone."""
    if st.context.url:
        return st.context.url
    path = "/" + layout.page_entry("app_pages/train.py").url_path
    headers = st.context.headers
    host = headers.get("Host")
    return f"{headers.get('X-Forwarded-Proto', 'http')}://{host}{path}" if host else path


def lesson_url(address: str, dataset: str, values: dict, locked=(), hidden=()) -> str:
    """The link that opens this page on a dataset with these settings, the given controls locked or hidden."""
    query = {"dataset": dataset, **lesson_query(values, locked, hidden)}
    return f"{address}?{urlencode(query, safe=',')}"


def lesson_link(dataset: str, spec: models.ModelSpec | None, epochs: int, lab: dict | None = None) -> None:
    """"Copy lesson link": the page's settings as a link, with the controls chosen to be locked or hidden."""
    with st.expander("🔗 Copy lesson link"):
        if spec is None:
            st.caption("Correct the settings above first: a link is made from valid settings.")
            return
        st.caption("A link that opens this page with these settings. Anyone may make one: a teacher preparing a "
                   "lesson, or a student sharing a set-up. A locked control is shown but cannot be changed; a hidden "
                   "one is not shown, and a note gives its value.")
        current = lesson()
        st.session_state.setdefault("train_link_lock", list(current.locked))
        st.session_state.setdefault("train_link_hide", list(current.hidden))
        left, right = st.columns(2)
        locked = left.multiselect("Lock (shown, cannot be changed)", list(SETTINGS), key="train_link_lock",
                                  format_func=lambda name: SETTINGS[name].title, persist_state="session")
        hidden = right.multiselect("Hide (not shown, fixed)", list(SETTINGS), key="train_link_hide",
                                   format_func=lambda name: SETTINGS[name].title, persist_state="session")
        if set(locked) & set(hidden):
            st.caption("A setting in both lists is hidden.")
        address = page_address()
        st.code(lesson_url(address, dataset, values_of(spec, epochs, lab), locked, hidden), language=None,
                wrap_lines=True)
        st.caption("Copy it with the copy button at the box's top right (it shows when the pointer is over the box)."
                   + ("" if "://" in address else " Put this app's address in front of it."))
