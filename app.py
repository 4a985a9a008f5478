"""MNIST Lab: the entry point. Every page is named once, with its title and icon, in layout.PAGES."""

import streamlit as st

from dashboard import jobs, layout

# The server's trainer starts with the first visit, not the first click on Train: its worker warms up
# meanwhile, and jobs queued before a restart are queued again at once. (An unreachable cluster is reported where
# training is asked for, not here.)
jobs.start_trainer()
st.navigation([st.Page(page.path, title=page.title, icon=page.icon, url_path=page.url_path, default=page.default)
               for page in layout.PAGES]).run()
