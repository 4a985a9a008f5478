"""Train: choose a network and its settings, train it on the server, and watch it learn live."""

import streamlit as st

import ui
import ui_identity
import ui_train_live
import ui_train_settings
import ui_train_summary
from mnistlib import datasets
from mnistlib.training import ENDED, TrainRequest

ui.setup_page("Train", "🏋️")
st.title("Train a network")
name = ui.chosen_dataset()
data = ui.require_dataset(name)
num_classes = len(data.class_names)

spec, epochs = ui_train_settings.settings(data)
if spec is not None:
    ui_train_summary.model_summary(spec, epochs, data)

ui_train_live.reattach_from_url()
job_id = st.session_state.get("job_id")
state = ui.job_state(job_id) if job_id else None
actor = ui_identity.require_actor("train")
# A student who left a shared training (their Stop) may start again; the others' training goes on.
active = state is not None and state.status not in ENDED and not (actor and actor.key in state.left_keys)

train_column, stop_column = st.columns(2)
if train_column.button("Train", type="primary", key="train_start", disabled=spec is None or active or actor is None,
                       width="stretch"):
    started = ui.start_training(TrainRequest(dataset=name, spec=spec, epochs=epochs))  # None: it said why
    if started:
        job_id, active = started, True
        st.session_state.pop("train_rendered_status", None)
if stop_column.button("Stop", key="train_stop", disabled=not active, width="stretch"):
    ui_train_live.stop(job_id)

st.toggle("Live curves", value=True, key="train_live_curves",
          help="Redraw the loss and accuracy curves twice a second while training. Each redraw costs the browser "
               "about 0.1 s of CPU: on one small machine that both trains and shows the page (a laptop on a "
               "projector), switching this off lets training run faster. The curves are drawn when it ends.")
st.caption(f"Training on {datasets.info(name).title} runs on the server, not in this page: you can leave the page "
           "or close the tab — it goes on, and the model is saved for every page to use.")
if job_id:
    # The bar moves twice a second anyway; its CSS transition would make the watching browser repaint it
    # continuously, taking CPU from the training on a small machine.
    st.html("<style>[data-testid='stProgress'] * { transition: none !important; }</style>")
    st.fragment(ui_train_live.live_view, run_every=0.5 if active else None)(job_id, num_classes)
