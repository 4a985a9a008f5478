"""Train: choose a network and its settings, train it on the server, and watch it learn live."""

import streamlit as st

from dashboard import challenges as challenge_ui
from dashboard import identity, layout, loaders, url_choices
from dashboard.train import lesson_link as train_lesson_link
from dashboard.train import live as train_live
from dashboard.train import lr_finder as train_lr_finder
from dashboard.train import settings as train_settings
from dashboard.train import summary as train_summary

layout.setup_page("Train", "🏋️")
st.title("Train a network")
name = url_choices.chosen_dataset()
data = loaders.require_dataset(name)
num_classes = len(data.class_names)

spec, epochs = train_settings.settings(data)
lab = train_settings.lab_values()  # the overfitting lab's settings, for the request
train_lesson_link.lesson_link(name, spec, epochs, lab)
challenge_ui.plan_check(name, spec, epochs, data)
if spec is not None:
    train_summary.model_summary(spec, epochs, data)

train_live.reattach_from_url()
actor = identity.require_actor("train")
train_lr_finder.finder_section(name, spec)
# Train, Stop, Live curves and the job's view rerun on their own (a fragment): a click there does not redraw the
# settings and summary above, which on one small machine would take the watching browser's CPU from the training.
st.fragment(train_live.controls)(name, spec, epochs, num_classes, actor, lab)
