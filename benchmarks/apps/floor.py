"""The framework's floor for browsing: one number input and one Plotly bar chart."""

import plotly.graph_objects as go
import streamlit as st

value = st.number_input("i", 0, 10_000, 0, key="floor_index")
st.plotly_chart(go.Figure(go.Bar(x=list("0123456789"), y=[value + 1] + [1] * 9)), key="floor_chart")
