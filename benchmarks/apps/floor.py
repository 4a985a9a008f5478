"""The framework's floor for browsing: one number input and one Plotly bar chart.

FLOOR_FEATURES (comma-separated) adds, one at a time, what the Predict page needs on top of the floor, so
the benchmark can show what each costs: "fragment" (the browser reruns as an st.fragment), "url" (the
index is written to the query parameters), "layout" (wide layout with a sidebar).
"""

import os

import plotly.graph_objects as go
import streamlit as st

FEATURES = set(filter(None, os.environ.get("FLOOR_FEATURES", "").split(",")))

if "layout" in FEATURES:
    st.set_page_config(page_title="floor", layout="wide")
    st.sidebar.markdown("**Dataset:** MNIST digits")


def browser() -> None:
    value = st.number_input("i", 0, 10_000, 0, key="floor_index")
    if "url" in FEATURES:
        st.query_params["image"] = str(value)
    st.plotly_chart(go.Figure(go.Bar(x=list("0123456789"), y=[value + 1] + [1] * 9)), key="floor_chart")


(st.fragment(browser) if "fragment" in FEATURES else browser)()
