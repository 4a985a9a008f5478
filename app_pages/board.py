"""Class board: every model of the class in one sortable table and one chart. A row opens its model on Predict,
downloads it, and lets its owners rename or delete it; the teacher reveals test accuracy and manages the class.

The board reads the store's index only (never every card file), and watches its change counter: new models
appear while the page is open.
"""

import pyarrow
import streamlit as st

from dashboard import challenges as challenge_ui
from dashboard import identity, layout, loaders, rerun_count, routes, url_choices
from dashboard import models as models_ui
from dashboard.components import board_watcher
from mnistlib import board, datasets, names, store, students

WATCH_SECONDS = 3  # how often an open board's tab polls the change counter's route (no rerun unless it changed)
ALL = "all"
TEST_NOTE = (
    "Choose your model by **validation accuracy**: the validation images are held back from training exactly so "
    "that models can be compared and one chosen. The test set is the final exam, and picking the model that scores "
    "best on it is like seeing the exam before sitting it — its score would no longer tell how well the model does "
    "on images it has never seen. That is why, on this board, the class's test results wait until your teacher "
    "reveals them at the end. Your own Train, Predict, Mistakes and Compare pages show each of your models' test "
    "accuracy so you can watch learning: read it there, but do not choose by it.")

layout.setup_page("Class board", "🏆")
st.title("Class board")
if students.class_name():
    st.caption(names.markdown_escape(f"Class: {students.class_name()}"))
actor = identity.current_actor()
# Read before the list: a model saved meanwhile changes the counter, and the watcher below redraws the board.
seen = routes.board_counter()
revealed = students.test_revealed()  # a change after the counter was read changes the counter: redrawn


@st.fragment
def watch_for_changes(drawn: str) -> None:
    """Redraw the whole board when a model was added, renamed or deleted, or test accuracy revealed or hidden: the
    tab polls the counter's route, and this part reruns only when it changed."""
    rerun_count.fragment_rerun("fragment-board")
    if routes.board_counter() != drawn:
        st.rerun()
    board_watcher.board_watcher(drawn, WATCH_SECONDS, key="board_watcher", on_changed=lambda: None)


watch_for_changes(seen)
models_ui.flash()
st.markdown("Every model the class has trained, yours first. Click a column's title to sort by it; select a row "
            "(the box at its left) to open that model on Predict, download it, or rename or delete it if it is yours.")
st.info(TEST_NOTE)
if actor is not None and actor.teacher:
    st.caption("You have revealed test accuracy to the class." if revealed else
               "Test accuracy is hidden from the class (and here) until you reveal it, at the end.")
else:
    st.caption("Your teacher has revealed test accuracy: read it as the final result, not to pick a model."
               if revealed else "On this board, test accuracy is hidden until your teacher reveals it, at the end.")
if actor is not None and actor.teacher:
    with st.expander("Teacher", expanded=True, icon="🧑‍🏫"):
        models_ui.teacher_panel()
    # Folded unless it has just said something: open, its form would push the class's table below the fold.
    with st.expander("Challenges and results", expanded="challenge_message" in st.session_state, icon="🎯"):
        challenge_ui.teacher_panel(actor, revealed)


# ## Which models: a dataset (or all) and whose


choices = [ALL, *datasets.available()]
if st.session_state.get("board_dataset") not in choices:
    st.session_state["board_dataset"] = url_choices.chosen_dataset()
st.session_state.setdefault("board_scope", "class")
dataset_column, scope_column = st.columns([1, 2])
dataset = dataset_column.selectbox("Dataset", choices, key="board_dataset",
                                   format_func=lambda name: "All datasets" if name == ALL else datasets.info(name).title)
scope = scope_column.radio("Show", list(loaders.SCOPES), key="board_scope", format_func=loaders.SCOPES.get, horizontal=True,
                           help="Your own models, every model of the class, or the ones the teacher trained.")
if dataset != ALL:
    challenge_ui.ranking_section(dataset, revealed)
    challenge_ui.verdicts_section(dataset)
entries = loaders.list_models(None if dataset == ALL else dataset, scope)
if not entries:
    if scope == "mine" and actor is None:
        st.info("Type your name in the sidebar (**Your name**, top left) to see your own models here.")
    elif scope == "mine":
        st.info("You have no models here yet: train one on the Train page, and it appears here.")
    else:
        st.info("No model here yet: models appear here as soon as they are trained (on the Train page).")
    layout.page_link("app_pages/train.py", "Go to Train →")
    st.stop()


# ## The table: sortable, one row selectable (kept across redraws by its model id)


ids = [entry.id for entry in entries]
try:
    default = {"selection": {"rows": [ids.index(st.session_state.get("board_model"))], "columns": []}}
except ValueError:  # nothing selected yet, or the selected model is not listed any more
    default = None
percent = st.column_config.NumberColumn(format="percent")
lab = store.lab_settings(None if dataset == ALL else dataset)  # the overfitting lab's settings, by model id
event = st.dataframe(
    # An Arrow table: Streamlit sends it as it is (from a dict of lists it would go through pandas first).
    pyarrow.table(board.table(entries, board.dataset_titles(entries), test_revealed=revealed, lab=lab)),
    # A new key whenever the rows change (added, removed, reordered): a selection always means a row of the table
    # drawn now, and the selected model is carried over to the new table by its id (selection_default).
    key=f"board_table_{hash(tuple(ids)):x}", on_select="rerun", selection_mode="single-row",
    selection_default=default, hide_index=True, column_config={
        "Trained by": st.column_config.TextColumn(pinned=True, help="Who trained it; +N: N more students asked for "
                                                                    "exactly the same training, and share the model"),
        "Model": st.column_config.TextColumn(pinned=True),
        "Yours": st.column_config.CheckboxColumn(help="In your list of models", width="small"),
        "Subset": st.column_config.TextColumn(help="small: the practice cut (for MNIST and Fashion-MNIST, 1,000 "
                                                   "training images); full: the whole training set"),
        "Stopped early": st.column_config.CheckboxColumn(help="Stopped before the epochs asked for: the model as of "
                                                              "its last finished epoch"),
        "Parameters": st.column_config.NumberColumn(format="localized", help="Learned numbers: weights and biases"),
        board.LAB_COLUMN: st.column_config.TextColumn(help="The overfitting lab's settings it was trained with: "
                                                           "fewer training images, noisy labels, L2, augmentation, "
                                                           "early stopping (— for none)"),
        "Training time (s)": st.column_config.NumberColumn(format="%.1f"),
        "Validation accuracy": percent, board.TEST_COLUMN: percent,
    })
selected = entries[event.selection.rows[0]] if event.selection.rows else None
st.session_state["board_model"] = selected.id if selected else None
st.caption(f"{len(entries):,} model(s).")


def model_panel(entry) -> None:
    """The selected model: open it on Predict, download it, rename or delete it (its owners; the teacher)."""
    st.subheader(names.markdown_escape(entry.name))
    accuracy = "no validation split" if entry.val_accuracy is None else f"validation {entry.val_accuracy:.2%}"
    epochs = f"{entry.epochs_run} epoch{'s' if entry.epochs_run != 1 else ''}"
    st.caption(names.markdown_escape(f"By {board.trained_by(entry)} · {entry.settings} · {epochs} · {accuracy}"))
    if entry.id in lab:
        st.caption(names.markdown_escape(f"Overfitting lab: {board.lab_sentence(lab[entry.id])}"))
    open_column, keras_column, card_column = st.columns(3)
    if open_column.button("Open on Predict", type="primary", key="board_open", icon="🔮", width="stretch"):
        st.session_state["model"], st.session_state["dataset"] = entry.id, entry.dataset
        st.switch_page("app_pages/predict.py", query_params={"model": entry.id, "dataset": entry.dataset})
    keras_column.download_button("Model (.keras)", data=lambda: store.model_bytes(entry.id),
                                 file_name=f"{entry.id}.keras", mime="application/octet-stream", on_click="ignore",
                                 key="board_download_model", icon="⬇️", width="stretch",
                                 help=f'In Python: `keras.saving.load_model("{entry.id}.keras")` (after '
                                      "`import keras`, in the folder you saved it to).")
    card_column.download_button("Card (.json)", data=lambda: board.card_json(store.load_card(entry.id), revealed),
                                file_name=f"{entry.id}.json", mime="application/json", on_click="ignore",
                                key="board_download_card", icon="⬇️", width="stretch",
                                help="Its dataset, settings, training history and accuracies"
                                     + ("." if revealed else " (test results left out until they are revealed)."))
    models_ui.manage(entry, key="board_manage")


if selected is None:
    st.caption("Select a row of the table (the box at its left) to open, download, rename or delete that model.")
else:
    with st.container(border=True):
        model_panel(selected)
st.plotly_chart(board.accuracy_figure(entries), key="board_chart")
without = sum(entry.val_accuracy is None for entry in entries)
st.caption("Each point is a model: further right, more parameters; higher, a larger fraction of its validation images right (validation sets may differ in size). Each "
           "architecture has its own colour and shape, named in the legend (Dense: blue circles, CNN: vermillion "
           "diamonds). Hover a point to see who trained it and its settings."
           + (f" {without:,} model(s) trained without a validation split are not drawn." if without else "")
           + (" Different datasets are mixed here, and their accuracies do not compare: choose one dataset above."
              if dataset == ALL else ""))
# The chart's points take the mouse only (plotly.js #562): the same models in a select box, for the keyboard.
drawn = [entry for entry in entries if entry.val_accuracy is not None]
if drawn:
    pick = st.selectbox("Open a model of the chart", range(len(drawn)), index=None, key="board_chart_model",
                        placeholder="Choose a point of the chart (a model)…",
                        format_func=lambda k: f"{drawn[k].name} — by {board.trained_by(drawn[k])} · "
                                              f"{drawn[k].parameters:,} parameters · validation "
                                              f"{drawn[k].val_accuracy:.2%}")
    if pick is not None:
        layout.page_link("app_pages/predict.py", names.markdown_escape(f"Open {drawn[pick].name} on Predict"),
                         {"model": drawn[pick].id, "dataset": drawn[pick].dataset})
