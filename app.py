"""MNIST Lab: the entry point. Every page is named once, with its title and icon, in ui.PAGES."""

import streamlit as st

import ui

st.navigation([st.Page(page.path, title=page.title, icon=page.icon, url_path=page.url_path, default=page.default)
               for page in ui.PAGES]).run()
