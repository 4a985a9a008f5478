"""Training jobs for the pages: the server's one trainer, a session's jobs, and starting one.

The work happens in worker processes (or on a Dask cluster), never in this server process.
"""

import streamlit as st

from dashboard import identity
from mnistlib import config, datasets
from mnistlib.names import as_text


@st.cache_resource(show_spinner=False)
def _trainer():
    from mnistlib import dataset_reorder, training

    dataset_reorder.reorder_all()  # once per server, before any training: see mnistlib/dataset_reorder.py

    return training.get_trainer(journal_jobs=True)


_unreachable = {"message": "", "until": 0.0}  # a cluster that could not be reached is tried again after a while
RETRY_CLUSTER_SECONDS = 30


def trainer():
    """The server's one Trainer, shared by every session (its queue is machine-wide). ClusterUnavailable when
    MNISTLIB_SCHEDULER names a cluster that cannot be reached (then at once for RETRY_CLUSTER_SECONDS, so pages
    do not each wait for the connection to time out)."""
    import time

    from mnistlib.training import ClusterUnavailable

    if time.monotonic() < _unreachable["until"]:
        raise ClusterUnavailable(_unreachable["message"])
    try:
        return _trainer()
    except ClusterUnavailable as error:
        _unreachable.update(message=str(error), until=time.monotonic() + RETRY_CLUSTER_SECONDS)
        raise


def start_trainer() -> None:
    """Create the server's trainer now (its worker warms up; a restart's queue resumes); an unreachable cluster is
    reported later, where training is asked for."""
    job("")


def job(job_id: str):
    """A job of this server by id (from the session or a URL), or None — also when the cluster is unreachable."""
    from mnistlib.training import ClusterUnavailable

    try:
        return trainer().job(job_id)
    except ClusterUnavailable:
        return None


def job_state(job_id: str):
    """A snapshot of a job of this server, or None if the server does not know it."""
    found = job(job_id)
    return found.snapshot() if found else None


def start_training(request) -> str | None:
    """Submit a training request for this user (a name is needed first); remembers the job in the session and
    the URL. None, with a message in the page, when training cannot start."""
    from mnistlib.training import ClusterUnavailable

    actor = identity.current_actor()
    if actor is None:
        st.warning("Type your name in the sidebar first, so that the model you train is kept as yours.")
        return None
    try:
        job = trainer().submit(request, owner=actor)
    except ClusterUnavailable as error:
        st.error(str(error))
        return None
    st.session_state["job_id"] = job.id
    st.query_params["job"] = job.id
    return job.id


def quick_start_button(dataset: str, key: str = "quick_start") -> None:
    """One click: train the default model (seed 0) for 5 epochs on dataset (in a worker process)."""
    from mnistlib.models import ModelSpec
    from mnistlib.training import TrainRequest

    actor = identity.require_actor("train")
    if st.button(f"Quick start: train the default model on {as_text(datasets.info(dataset).title)}", key=key,
                 type="primary", disabled=actor is None):
        if start_training(TrainRequest(dataset=dataset, spec=ModelSpec(), epochs=5, subset=config.subset())):
            st.switch_page("app_pages/train.py")
