"""Train: choose a network and its settings, train it on the server, and watch it learn live."""

import streamlit as st

import ui
import ui_identity
import ui_lesson_link
import ui_lr_finder
import ui_train_live
import ui_train_settings
import ui_train_summary

ui.setup_page("Train", "🏋️")
st.title("Train a network")
name = ui.chosen_dataset()
data = ui.require_dataset(name)
num_classes = len(data.class_names)

spec, epochs = ui_train_settings.settings(data)
ui_lesson_link.lesson_link(name, spec, epochs)
if spec is not None:
    ui_train_summary.model_summary(spec, epochs, data)

ui_train_live.reattach_from_url()
actor = ui_identity.require_actor("train")
ui_lr_finder.finder_section(name, spec)
# Train, Stop, Live curves and the job's view rerun on their own (a fragment): a click there does not redraw the
# settings and summary above, which on one small machine would take the watching browser's CPU from the training.
st.fragment(ui_train_live.controls)(name, spec, epochs, num_classes, actor)
