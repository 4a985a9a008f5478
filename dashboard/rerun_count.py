"""Counting the dashboard's fragment reruns for /metrics (mnistlib.metrics): a fragment's code runs in a page's run
too, and only its runs of its own (a fragment rerun) are counted here; page runs are counted in navigation.py."""

from streamlit.runtime.scriptrunner import get_script_run_ctx

from mnistlib import metrics


def fragment_rerun(kind: str) -> None:
    """Count this run as a rerun of kind if it is a fragment's own run (not part of a whole page's run)."""
    context = get_script_run_ctx()
    if context is not None and context.fragment_ids_this_run:
        metrics.count_rerun(kind)
