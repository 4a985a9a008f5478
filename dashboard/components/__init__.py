"""Streamlit components of MNIST Lab (components v2: plain JavaScript and CSS, no iframe, no build step)."""
