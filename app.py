"""MNIST Lab: the entry point, an ASGI app (Streamlit's st.App) that `streamlit run app.py` serves.

The pages come from navigation.py (the main script: st.navigation over layout.PAGES); beside them, plain HTTP
routes (dashboard/routes.py): /healthz, /metrics, a job's progress and the class board's change counter, which the
watching tabs poll instead of rerunning a fragment.
"""

import pandas  # noqa: F401  imported once at start: sessions' first runs importing it at once inside Plotly raced
import streamlit as st

from dashboard import routes

app = st.App("navigation.py", routes=routes.ROUTES)
