"""The class board's watcher as a Streamlit component (components v2): the tab polls the board's change counter
route and asks for a rerun only when it changed, instead of a fragment rerun every few seconds."""

from pathlib import Path

import streamlit as st

_watcher = st.components.v2.component("mnist_lab.board_watcher",
                                      js=(Path(__file__).parent / "board_watcher.js").read_text(encoding="utf-8"))


def board_watcher(version: str, every_seconds: float, key: str, on_changed) -> None:
    """Watch api/board/version every every_seconds; on_changed() runs in the rerun the tab asks for when the counter
    is no longer version (the new one is then `st.session_state[key]["changed"]`)."""
    _watcher(data={"version": version, "url": "api/board/version", "every_ms": int(every_seconds * 1000)}, key=key,
             height=0, on_changed_change=on_changed)
