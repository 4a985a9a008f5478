"""Running one page with Streamlit's AppTest, and reading what it shows (shared by the page tests)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
TEXT_KINDS = ("markdown", "caption", "info", "warning", "error", "success")


def run_page(path: str, query=None, session=None) -> AppTest:
    """Run the page at path (from the repository's root) once, with these query parameters and session state;
    it must end without an exception."""
    app = AppTest.from_file(str(REPO / path), default_timeout=120)
    for key, value in (query or {}).items():
        app.query_params[key] = value
    for key, value in (session or {}).items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, app.exception
    return app


def texts(app: AppTest, kinds=TEXT_KINDS) -> str:
    """The page's text elements of these kinds, joined by spaces."""
    return " ".join(element.value for kind in kinds for element in getattr(app, kind))
