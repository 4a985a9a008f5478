"""The framework's floor for cold start: a hello-world Streamlit page."""

import streamlit as st

st.title("Hello")
st.button("Ready", key="hello_ready")
