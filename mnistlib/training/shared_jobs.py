"""The Trainer's side of the shared queue (shared_queue.py): several server processes on one store as one queue.

A job whose request key another live process already claims is followed, not trained: its events come from the
database and its ending is the other process's (the same stored model, in the lists of every owner). A thread
beats this process's claims, writes their events, keeps owners in step, and takes over the claims of processes
that died: trained again here from the start, under the same job id, so a student's ?job= link keeps working.
"""

import logging
import threading

from mnistlib import store
from mnistlib.training import events, journal, shared_queue
from mnistlib.training.jobs import Job
from mnistlib.training.requests import TrainRequest

LOG = logging.getLogger(__name__)
SYNC_SECONDS = 0.5  # how often claims are beaten, events written and followed jobs read
TAKEN_OVER = ("The server process that was training this stopped, so another one took it over and trains it again "
              "from the start: the same settings and seed give the same model.")


class SharedJobs:
    """Claims, follows and takes over jobs for one Trainer (which calls the hooks below under its lock)."""

    def __init__(self, trainer, queue: shared_queue.SharedQueue | None = None):
        self.trainer = trainer
        self.queue = queue or shared_queue.SharedQueue()
        self._owned: dict[str, tuple[Job, int]] = {}  # request key -> (our job training it, claim attempt)
        self._followed: dict[str, list] = {}  # request key -> [job, attempt, events applied, local owner keys]
        self._outbox: dict[tuple[str, int], list] = {}  # (key, attempt) -> event messages not written yet
        self._aliases: dict[str, str] = {}  # request key -> a dead process's job id that our job trains
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._root = store.folders.root()  # the store this Trainer serves; the beat leaves any other store alone

    def __repr__(self):
        return f"SharedJobs({self.queue.process}, {len(self._owned)} owned, {len(self._followed)} followed)"

    def start(self) -> None:
        self.queue.prune()
        threading.Thread(target=self._loop, daemon=True, name="mnistlib-shared-queue").start()

    def close(self) -> None:
        self._closed.set()

    # ## Hooks the Trainer calls

    def follows(self, job: Job) -> bool:
        """Claim job's key: False when this process is to train it; True when another process already does (job
        now follows it) or already stored its model (job has ended with it)."""
        claim = self.queue.claim(job.key, job.id, job.request.to_dict(), job.owners)
        if claim.process == self.queue.process:
            with self._lock:
                self._owned[job.key] = (job, claim.attempt)
            return False
        local = [owner.key for owner in job.owners]
        if claim.status == "finished":
            self._end_follower(job, claim, local)
            return True
        self._follow(job, claim, local)
        return True

    def joined(self, job: Job, owner) -> None:
        """Another student here asked for a job's key: an owner in every process."""
        if owner is not None and (job.key in self._owned or job.key in self._followed):
            self.queue.add_owners(job.key, [owner])
            with self._lock:
                if job.key in self._followed and owner.key not in self._followed[job.key][3]:
                    self._followed[job.key][3].append(owner.key)

    def forward(self, job: Job, message: dict) -> None:
        """An event of a job this process trains: written for its followers at the next beat."""
        with self._lock:
            owned = self._owned.get(job.key)
            if owned is not None and owned[0] is job:
                self._outbox.setdefault((job.key, owned[1]), []).append(message)

    def ended(self, job: Job, status: str, model_id: str | None, message: str) -> None:
        """A job this process trained ended: its events, then its ending, go to the followers. One stopped by this
        process shutting down keeps its claim: another process takes it over."""
        if self.trainer._closed:
            return
        with self._lock:
            owned = self._owned.get(job.key)
            if owned is None or owned[0] is not job:
                return
            del self._owned[job.key]
            alias = self._aliases.pop(job.key, None)
        self._flush()
        self.queue.release(job.key, status, model_id, message)
        if alias is not None and self.trainer._journal:
            journal.update(alias, status, message, model_id)

    def recovers(self, row: dict) -> bool:
        """A journal row of an earlier run whose key has a claim: the claim table looks after it (the job that
        claimed it is taken over by the first live process; one that followed it follows it again), so the
        Trainer's restart recovery leaves it alone."""
        try:
            request = TrainRequest.from_dict(row["request"])
            claim = self.queue.get(request.key())
        except (ValueError, KeyError, TypeError):
            return False
        if claim is None or claim.status != shared_queue.ACTIVE:
            return False
        if claim.job_id != row["id"]:
            job = Job(row["id"], request, row["owners"])
            with self.trainer._lock:
                self.trainer._register(job)
                self._follow(job, claim, [owner.key for owner in row["owners"]])
        return True

    def adopt(self, job_id: str) -> Job | None:
        """A job another process trains, asked for here by id (a student whose process died reconnects): followed."""
        claim = self.queue.by_job(job_id)
        if claim is None or claim.status != shared_queue.ACTIVE:
            return None
        try:
            job = Job(job_id, TrainRequest.from_dict(claim.request), claim.owners)
        except (ValueError, KeyError, TypeError):
            return None
        with self.trainer._lock:
            if job_id in self.trainer._jobs:
                return self.trainer._jobs[job_id]
            self.trainer._register(job)
            self._follow(job, claim, [])
        return job

    # ## Following another process's job

    def _follow(self, job: Job, claim, local: list) -> None:
        """Follow claim with job (called with the Trainer's lock held). Its owners are everyone's, so a Stop here
        usually only leaves it (Job.stop); a Stop by its last owner ends it here and leaves it elsewhere."""
        job._stop = lambda: self._leave(job)
        job.trained_elsewhere = True
        for owner in claim.owners:
            if owner.key not in claim.left_keys:
                job.add_owner(owner)
        with self._lock:
            self._followed[job.key] = [job, claim.attempt, 0, local]
        self.trainer._active[job.key] = job

    def _leave(self, job: Job) -> None:
        for owner in list(job.owners):
            self.queue.leave(job.key, owner.key)
        self._drop(job.key, job)
        job.apply(events.Stopped(job.id, None, [], message="You left this training; nothing of it is kept in your "
                                                           "list. Train again to start it anew."))

    def _read_followed(self, key: str, entry: list) -> None:
        job, attempt, seen, local = entry
        claim = self.queue.get(key)
        if claim is None:
            self._drop(key, job)
            job.apply(events.Failed(job.id, "This training's record was lost. Train again: the same settings and "
                                            "seed give the same model."))
            return
        if claim.attempt != attempt:  # another process took it over: its progress starts again from the start
            job = self._restart_follower(job, claim)
            entry[:] = [job, claim.attempt, 0, local]
            seen = 0
        for message in self.queue.events_after(key, claim.attempt, seen):
            try:
                job.apply(events.from_message(message))
            except (ValueError, TypeError):
                pass
            entry[2] += 1
        self._sync_owners(job, claim)
        if claim.status in shared_queue.ENDINGS:
            self._end_follower(job, claim, local)
        elif claim.dead():
            self._take_over(claim, follower=job)

    def _restart_follower(self, job: Job, claim) -> Job:
        job.start_again()  # the same object: pages and callers holding it see the new attempt
        return job

    def _end_follower(self, job: Job, claim, local: list) -> None:
        """End a followed job as its claim ended: the same model, put in the lists of this process's owners."""
        self._drop(claim.key, job)
        if claim.status == "failed" or claim.model_id is None:
            ending = (events.Failed(job.id, claim.message) if claim.status == "failed"
                      else events.Stopped(job.id, None, [], message=claim.message))
        else:
            try:
                for owner in job.owners:
                    if owner.key in local and owner.key not in claim.left_keys:
                        store.ownership.add_owner(claim.model_id, owner, job.request.name)
                card = store.load_card(claim.model_id)
            except (store.ModelNotFoundError, store.CorruptModelError):
                ending = events.Failed(job.id, "This training's model has been deleted since.")
            else:
                kind = events.Finished if claim.status == "finished" else events.Stopped
                ending = kind(job.id, card.id, card.history, card.test_loss, card.test_accuracy, claim.message)
        job.apply(ending)
        if self.trainer._journal:
            state = job.snapshot()
            journal.update(job.id, state.status, state.message, state.model_id)

    def _drop(self, key: str, job: Job) -> None:
        with self._lock:
            if key in self._followed and self._followed[key][0] is job:
                del self._followed[key]
        with self.trainer._lock:
            if self.trainer._active.get(key) is job:
                del self.trainer._active[key]

    def _sync_owners(self, job: Job, claim) -> None:
        """Owners added in any process join job; those who left it anywhere leave it here."""
        for key in job.snapshot().left_keys:
            if key not in claim.left_keys:
                self.queue.leave(claim.key, key)
        for owner in claim.owners:
            if owner.key not in claim.left_keys:
                job.add_owner(owner)
        with job._lock:
            if any(owner.key in claim.left_keys for owner in job.owners):
                job.owners = [owner for owner in job.owners if owner.key not in claim.left_keys]

    # ## Taking over a dead process's training

    def _take_over(self, claim, follower: Job | None = None) -> None:
        """Train a dead process's claim here. A job of ours that followed it becomes the one training it; otherwise
        a new job gets the claim's job id (the dead process's students look it up by that id)."""
        won = self.queue.take_over(claim)
        if won is None:
            return  # another live process was first
        try:
            request = TrainRequest.from_dict(won.request)
        except (ValueError, KeyError, TypeError) as error:
            self.queue.release(won.key, "failed", None, f"This queued training could not be read back ({error}).")
            return
        if won.owners and all(owner.key in won.left_keys for owner in won.owners):
            self.queue.release(won.key, "stopped", None, "Everyone who asked for this training left it.")
            return
        LOG.warning("Took over training %s (job %s) from the stopped process %s.", won.key[:12], won.job_id,
                    claim.process)
        trainer = self.trainer
        with trainer._lock:
            job = follower if follower is not None else trainer._jobs.get(won.job_id)
            if job is None or job.ended:
                job = Job(won.job_id, request, [])
                trainer._register(job)
            self._drop(won.key, job)
            job.trained_elsewhere = False  # trained here from now on
            job.start_again()
            for owner in won.owners:
                if owner.key not in won.left_keys:
                    job.add_owner(owner)
            job._stop = lambda: trainer._stop(job)
            trainer._jobs.setdefault(won.job_id, job)  # the dead process's students' ?job= links
            trainer._active[job.key] = job
            with self._lock:
                self._owned[job.key] = (job, won.attempt)
                if job.id != won.job_id:
                    self._aliases[job.key] = won.job_id
            stored = store.find_trained(job.key)  # stored just before its process died: nothing to train
            if stored is not None and trainer._reuse(job, stored, None):
                for owner in job.owners:
                    store.ownership.add_owner(stored, owner, request.name)
                del trainer._active[job.key]
                self.ended(job, "finished", stored, job.snapshot().message)
                return
            if trainer._journal:
                journal.record(job)
            trainer._start(job)
        job.apply(events.Queued(job.id, trainer.queue_position(job)))

    # ## The beat

    def _flush(self) -> list:
        with self._lock:
            outbox, self._outbox = self._outbox, {}
            if not outbox and not self._owned:
                return []  # nothing claimed here: no heartbeat to write
        return self.queue.beat(outbox)

    def _loop(self) -> None:
        while not self._closed.wait(SYNC_SECONDS):
            if store.folders.root() != self._root:
                continue  # the process now points at another store (tests do): its claims are not ours to take over
            try:
                for claim in self._flush():
                    owned = self._owned.get(claim.key)
                    if owned is not None:
                        self._sync_owners(owned[0], claim)
                with self._lock:
                    followed = list(self._followed.items())
                for key, entry in followed:
                    self._read_followed(key, entry)
                followed_keys = {key for key, _ in followed}
                for claim in self.queue.dead_claims():
                    if claim.key not in followed_keys:
                        self._take_over(claim)
            except Exception:  # noqa: BLE001 — a busy database or a vanished model must not end the beat
                LOG.exception("The shared training queue could not be updated; trying again.")
