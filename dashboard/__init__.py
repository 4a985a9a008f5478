"""The Streamlit side of MNIST Lab: page setup and sidebar, who is here, jobs, models, Train, Insight, components."""
