"""Training jobs: requests, the Trainer that runs each distinct one once, and the events it reports.

    from mnistlib.training import TrainRequest, get_trainer
    job = get_trainer().submit(TrainRequest("mnist", ModelSpec(), epochs=5), owner=actor)
    job.snapshot().status   # queued → starting → running → finished | stopped | failed

Files: requests.py (TrainRequest and its key), events.py (the event vocabulary), jobs.py (Job, JobState),
trainer.py (Trainer), journal.py (jobs surviving a restart), backends.py (choosing where to train),
local_pool.py (this machine's processes), dask_cluster.py (a Dask cluster), worker.py (what runs where the
training runs), loop.py (the training loop), fast_fit.py (its compiled steps), steps.py (steps per epoch).
"""

from mnistlib.training.backends import ClusterUnavailable
from mnistlib.training.jobs import ACTIVE, ENDED, Job, JobState
from mnistlib.training.requests import TrainRequest
from mnistlib.training.trainer import Trainer, get_trainer

__all__ = ["ACTIVE", "ENDED", "ClusterUnavailable", "Job", "JobState", "TrainRequest", "Trainer", "get_trainer"]
