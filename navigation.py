"""MNIST Lab's main script (app.py serves it as an st.App): every page is named once, with its title and icon, in
layout.PAGES. Each run of a page's script is timed and counted for /metrics."""

import time

import streamlit as st

from dashboard import jobs, layout
from mnistlib import metrics

# The server's trainer starts with the first visit, not the first click on Train: its worker warms up
# meanwhile, and jobs queued before a restart are queued again at once. (An unreachable cluster is reported where
# training is asked for, not here.)
jobs.start_trainer()
page = st.navigation([st.Page(entry.path, title=entry.title, icon=entry.icon, url_path=entry.url_path,
                              default=entry.default) for entry in layout.PAGES])
metrics.count_rerun("page")
started = time.perf_counter()
try:
    page.run()
finally:  # also when the page stops early (st.stop) or asks for a rerun (st.rerun, st.switch_page)
    metrics.observe_page(page.url_path or "home", time.perf_counter() - started)
