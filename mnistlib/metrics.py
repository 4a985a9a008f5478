"""The server's metrics in Prometheus's text format (prometheus_client): how loaded the dashboard is.

    mnistlab_sessions                      browser sessions connected now (gauge)
    mnistlab_students_named                students who gave their name (gauge)
    mnistlab_trainings{status}             trainings queued, starting or running now (gauge)
    mnistlab_trainings_ended_total{status} trainings finished, stopped or failed since the server started (counter)
    mnistlab_training_seconds              how long each ended training trained (histogram)
    mnistlab_page_script_seconds{page}     one run of a page's script (histogram)
    mnistlab_reruns_total{kind}            script runs: page, fragment-live, fragment-board, browse-follow-up (counter)

The first five are read from the server's Trainer and the class database when /metrics is scraped; the last two are
counted where the runs happen (the dashboard calls count_rerun and observe_page). Nothing here imports streamlit.
"""

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

RERUN_KINDS = ("page", "fragment-live", "fragment-board", "browse-follow-up")
ACTIVE_STATUSES = ("queued", "starting", "running")
ENDED_STATUSES = ("finished", "stopped", "failed")
# A page's script takes ~10 ms (a cached page) to a few seconds (the first visit, loading a dataset).
PAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A training takes ~2 s (the quick start on the small subset) to many minutes (a CNN on full MNIST).
TRAINING_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

disable_created_metrics()  # no *_created series: when a counter was created says nothing about the class
REGISTRY = CollectorRegistry()
RERUNS = Counter("mnistlab_reruns", "Script runs of the dashboard by kind: a whole page, or one fragment.",
                 ["kind"], registry=REGISTRY)
PAGE_SECONDS = Histogram("mnistlab_page_script_seconds", "Time one run of a page's script took, by page.",
                         ["page"], buckets=PAGE_BUCKETS, registry=REGISTRY)
for _kind in RERUN_KINDS:  # every kind is exported from the start, at 0
    RERUNS.labels(kind=_kind)


def count_rerun(kind: str) -> None:
    """One script run of this kind (one of RERUN_KINDS)."""
    if kind not in RERUN_KINDS:
        raise ValueError(f"Unknown kind of rerun {kind!r}; one of {', '.join(RERUN_KINDS)}.")
    RERUNS.labels(kind=kind).inc()


def observe_page(page: str, seconds: float) -> None:
    """One run of page's script took seconds."""
    PAGE_SECONDS.labels(page=page).observe(seconds)


class ServerCollector:
    """Reads, at each scrape, the live figures: sessions (from sessions()), students, and the trainings of the
    trainer that trainer() returns (None: not started yet, every training figure 0)."""

    def __init__(self, sessions: Callable[[], int], trainer: Callable[[], object]):
        self._sessions, self._trainer = sessions, trainer

    def __repr__(self):
        return "ServerCollector()"

    def collect(self):
        from mnistlib import students

        yield GaugeMetricFamily("mnistlab_sessions", "Browser sessions connected to this server now.",
                                value=self._sessions())
        yield GaugeMetricFamily("mnistlab_students_named", "Students who gave their name (the class's roster).",
                                value=len(students.roster()))
        states = [job.progress_since(1 << 30) for job in trainer_jobs(self._trainer())]
        now = GaugeMetricFamily("mnistlab_trainings", "Trainings of this server by status now.", labels=["status"])
        ended = CounterMetricFamily("mnistlab_trainings_ended", "Trainings of this server that ended, by how.",
                                    labels=["status"])
        for status in ACTIVE_STATUSES:
            now.add_metric([status], sum(state.status == status for state in states))
        for status in ENDED_STATUSES:
            ended.add_metric([status], sum(state.status == status for state in states))
        yield now
        yield ended
        yield training_seconds([state.elapsed_seconds for state in states
                                if state.status in ("finished", "stopped") and not state.reused])


def trainer_jobs(trainer) -> list:
    """The jobs a Trainer knows in this server run (its public job(id) looks one up; the list is read from its
    registry, never changed)."""
    if trainer is None:
        return []
    return list(getattr(trainer, "_jobs", {}).values())


def training_seconds(durations: list[float]) -> HistogramMetricFamily:
    """A histogram of how long the ended trainings trained (cumulative buckets, as Prometheus wants)."""
    buckets = [(str(bound), sum(duration <= bound for duration in durations)) for bound in TRAINING_BUCKETS]
    buckets.append(("+Inf", len(durations)))
    family = HistogramMetricFamily("mnistlab_training_seconds", "How long each ended training of this server trained.")
    family.add_metric([], buckets, sum_value=sum(durations))
    return family


_registered: list[ServerCollector] = []


def register_server(sessions: Callable[[], int], trainer: Callable[[], object]) -> None:
    """Export the server's live figures (once per process; a second call replaces the readers)."""
    if _registered:
        REGISTRY.unregister(_registered.pop())
    collector = ServerCollector(sessions, trainer)
    REGISTRY.register(collector)
    _registered.append(collector)


def exposition() -> tuple[bytes, str]:
    """The metrics as Prometheus scrapes them: (body, content type)."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
