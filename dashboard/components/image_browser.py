"""The Predict page's test-image browser as a Streamlit component (components v2: no iframe, no build step).

Two elements: `image_browser_view` carries the server's view (image, epoch, filters; a few bytes that change on
every rerun), `image_browser` carries the payload of mnistlib.browse_data (megabytes, identical on every rerun, so
Streamlit sends it once and afterwards only a reference) and draws everything in the browser.
"""

from pathlib import Path

import streamlit as st

from mnistlib import metrics

HERE = Path(__file__).parent
TIMEOUT_SECONDS = 30  # the payload must be shown within this time, else the page falls back to the server


def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


# One module from three plain files (no build step): reading the payload, the histogram, the browser.
_browser = st.components.v2.component(
    "mnist_lab.image_browser", html=_asset("image_browser.html"), css=_asset("image_browser.css"),
    js="\n".join(_asset(name) for name in ("browse_payload.js", "probability_chart.js", "image_browser.js")))
_view = st.components.v2.component("mnist_lab.image_browser_view", js=_asset("image_browser_view.js"))


def image_browser(payload: bytes, payload_id: str, view: dict, key: str, on_view, on_failed) -> None:
    """Mount the browser for a browse_data payload, starting at view (image, epoch, true_class, result).

    on_view() runs (in the rerun the browser asks for) after the student moved: the new view is then
    `st.session_state[key]["view"]`; on_failed() runs when the browser could not show the payload: the reason
    is `st.session_state[key]["failed"]` or `st.session_state[key + "_view"]["failed"]`.
    """
    with st.container(gap=None):  # the view element has no height: no gap either
        _view(data={"payload": payload_id, **view, "timeout_seconds": TIMEOUT_SECONDS}, key=f"{key}_view",
              height=0, on_failed_change=on_failed)
        _browser(data=payload, key=key, on_view_change=lambda: _followed(on_view), on_failed_change=on_failed)


def _followed(on_view) -> None:
    """The rerun the browser asked for after the student moved (one per burst of clicks), counted for /metrics."""
    metrics.count_rerun("browse-follow-up")
    on_view()


def reported(key: str, name: str):
    """The value the browser reported last under name ("view" or "failed"), or None."""
    for widget in (key, f"{key}_view"):
        value = (st.session_state.get(widget) or {}).get(name)
        if value is not None:
            return value
    return None
