"""The sidebar's "What is stored": what the server keeps about the class, where, and how to delete it."""

import streamlit as st

WHAT_IS_STORED = """
**On the server**, in its model store folder (by default `models/`, see README's Configuration):
- each trained model: its `.keras` file, its card (dataset, settings, training history, accuracies), its test
  predictions, and who has it in their list under which name;
- `index.sqlite`: an index of those models; the class — each student's name, when they joined, and the SHA-256 of
  the random token their browser keeps (never the token itself); the teacher's sessions (a hash and an expiry); the
  class's settings and challenges; a journal of training jobs (what was asked, by whom, how it ended).

In its data folder (by default `data/`): the datasets students added on Your data.

**In your browser**: one cookie with your random token (or the teacher's session). No password is stored anywhere.
The server's log records each wrong teacher password with the browser's session id and address (never the password).

**Deleting**: you delete your own models (Predict or the Class board). The teacher can download one student's data
or delete a student with their name, the models only they have and the datasets they added (Class board → Teacher
→ Students); the jobs journal keeps its records. Deleting the two folders deletes everything.
"""


def what_is_stored() -> None:
    """A short expander in the sidebar saying what is kept about the class, where, and how to delete it."""
    with st.expander("What is stored", icon="🔒"):
        st.markdown(WHAT_IS_STORED)
