"""Home's overfitting lesson: the four trainings as links to Train, "Train all four", and their results side by
side once their models exist (mnistlib/overfitting_lesson.py)."""

import streamlit as st

from dashboard import identity, jobs, layout
from dashboard.train import settings as train_settings
from mnistlib import overfitting_lesson
from mnistlib.names import as_text

WATCH_SECONDS = 3  # while the lesson's trainings run, the table looks for their models this often


def row_query(dataset: str, row: overfitting_lesson.Row) -> dict:
    """The Train page's query for a row: every setting written out (the defaults too), so the page shows exactly
    the lesson's network whatever this session set before."""
    request = row.request(dataset)
    values = train_settings.values_of(request.spec, request.epochs, request.lab_settings())
    return {"dataset": dataset, **{name: train_settings.SETTINGS[name].text(values[name])
                                   for name in train_settings.SETTINGS}}


def train_all(dataset: str) -> None:
    """Submit the rows not yet trained (identical runs of the class are reused), for the signed-in student."""
    from mnistlib.training import ClusterUnavailable

    actor = identity.current_actor()
    if actor is None:
        st.warning("Type your name in the sidebar first, so that the models you train are kept as yours.")
        return
    submitted = []
    try:
        for row, found in zip(overfitting_lesson.ROWS, overfitting_lesson.results(dataset), strict=True):
            if found is None:
                submitted.append(jobs.trainer().submit(row.request(dataset), owner=actor).id)
    except ClusterUnavailable as error:
        st.error(str(error))
    st.session_state["lesson_jobs"] = submitted
    st.session_state["lesson_message"] = (
        f"Queued {len(submitted)} training(s); the table below fills in as each one finishes." if submitted else
        "All four are trained already: their results are in the table below.")


def results_table(dataset: str) -> None:
    """The four runs side by side; watches for their models while any of this session's trainings runs."""
    found = overfitting_lesson.results(dataset)
    rows = [{"Training": row.title,
             "Training acc.": "—" if result is None else f"{result.training_accuracy:.1%}",
             "Validation acc.": "—" if result is None else f"{result.validation_accuracy:.1%}",
             "Gap (points)": "—" if result is None else f"{result.gap:+.1f}",
             "Reading": "Not trained yet." if result is None else result.reading(row)}
            for row, result in zip(overfitting_lesson.ROWS, found, strict=True)]
    # A plain table (four rows): its text is in the page for every reader, screen readers included.
    st.table(rows, hide_index=True)
    st.caption(f"Accuracies after the last of the {overfitting_lesson.EPOCHS} epochs; training accuracy is measured "
               "during that epoch, on the training images as they were learned.")
    from mnistlib.training.jobs import ENDED

    waiting = [job_id for job_id in st.session_state.get("lesson_jobs", [])
               if (state := jobs.job_state(job_id)) and state.status not in ENDED]
    if waiting and any(result is None for result in found):
        st.caption(f"{len(waiting)} of the lesson's trainings still queued or running…")


def section(dataset: str) -> None:
    """The overfitting lesson on Home."""
    st.subheader("Overfitting lesson")
    available = overfitting_lesson.images_available(dataset)
    if available is None or available < overfitting_lesson.TRAIN_IMAGES:
        st.info(f"The lesson trains on {overfitting_lesson.TRAIN_IMAGES} training images; this dataset has "
                f"{available or 0:,} after its validation part is held back. Choose MNIST or Fashion-MNIST above.")
        return
    request = overfitting_lesson.ROWS[0].request(dataset)
    st.markdown(f"Why is a validation set held back? To see whether the network learned or memorised. Train the "
                f"default network on {overfitting_lesson.TRAIN_IMAGES} training images for "
                f"{overfitting_lesson.EPOCHS} epochs with the same seed ({request.spec.seed}), four ways, and compare "
                "how much better it does on the images it learned from than on held-out ones.")
    # So a link followed from here is read by Train even after an earlier visit (it reads its URL on the first).
    st.session_state.pop("train_settings_loaded", None)
    for row in overfitting_lesson.ROWS:
        layout.page_link("app_pages/train.py", f"→ {as_text(row.title)}", row_query(dataset, row))
    if st.button("Train all four", key="home_lesson_train_all", icon="🧪", disabled=identity.current_actor() is None,
                 help="Queues the four trainings (those not trained yet, by you or the class)."):
        train_all(dataset)
    if message := st.session_state.pop("lesson_message", None):
        st.info(message)
    st.fragment(run_every=WATCH_SECONDS if st.session_state.get("lesson_jobs") else None)(results_table)(dataset)

