"""HTTP routes served beside the pages (app.py's st.App): health, metrics, and what a watching tab polls instead of
rerunning a fragment — a job's new progress and the class board's change counter.

    GET /healthz                          200 "ok" and the trainer's state as JSON ("running" counts starting jobs
                                          too; 503 if the cluster is unreachable)
    GET /metrics                          Prometheus text format (mnistlib.metrics)
    GET /api/jobs/<job_id>/progress       the live view's data after ?since=<points>&records=<records>: only for the
                                          job's owners (by the student cookie the pages use) and the teacher, else 403;
                                          404 for an unknown job
    GET /api/board/version                the board's change counter: {"version": "<models generation>-<revealed>"}

The handlers are plain functions: Starlette runs them in its thread pool, so the server's event loop never waits for
the database or a job's lock. The progress route's one wait (a job about to end, see job_progress) is a coroutine's
sleep instead, so a class watching one training holds no threads of that pool while it waits.
"""

import asyncio
import re
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dashboard import identity, jobs
from mnistlib import metrics, store, students
from mnistlib.training import ACTIVE, ClusterUnavailable

JOB_ID = re.compile(r"[0-9a-f]{12}")
NO_STORE = {"Cache-Control": "no-store"}  # every answer is live: never kept by a browser or a proxy


def active_sessions() -> int:
    """Browser sessions connected to this server now (Streamlit's runtime keeps them; 0 before it started)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return 0
    return Runtime.instance()._session_mgr.num_active_sessions()


def _trainer_or_none():
    try:
        return jobs.trainer()
    except ClusterUnavailable:
        return None


metrics.register_server(active_sessions, _trainer_or_none)


def healthz(request: Request) -> Response:
    """ok, with the trainer's backend, its workers and how many trainings wait and run."""
    try:
        trainer = jobs.trainer()
    except ClusterUnavailable as error:
        return JSONResponse({"status": "unavailable", "message": str(error)}, status_code=503, headers=NO_STORE)
    states = [job.progress_since(1 << 30).status for job in metrics.trainer_jobs(trainer)]
    backend = trainer.backend
    processes = getattr(backend, "processes", None)
    return JSONResponse({
        "status": "ok", "backend": type(backend).__name__, "where": getattr(backend, "description", repr(backend)),
        "workers": len(processes()) if callable(processes) else None,
        "queued": states.count("queued"), "running": sum(status in ACTIVE[1:] for status in states),
        "sessions": active_sessions(),
    }, headers=NO_STORE)


def metrics_text(request: Request) -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type, headers=NO_STORE)


def request_actor(request: Request):
    """The student or teacher whose browser sent this request (its cookies, as the pages read them), or None."""
    cookies = request.cookies
    return (students.teacher_from_token(cookies.get(identity.TEACHER_COOKIE))
            or students.from_token(cookies.get(identity.STUDENT_COOKIE)))


def _count(request: Request, name: str) -> int:
    value = request.query_params.get(name, "0")
    if not value.isdigit() or len(value) > 9:
        raise ValueError(f"{name} must be a whole number of at least 0, not {value[:20]!r}.")
    return int(value)


ENDING_SOON_SECONDS = 1.0  # a poll of a job with about this long left waits for its end
ENDED_CHECK_SECONDS = 0.02  # how often that wait looks whether the job ended


async def job_progress(request: Request) -> Response:
    """The live view's data for the points and epoch records after those the tab has (dashboard.train.live). A job
    that will likely have ended before the tab's next poll (0.5 s later) is waited for here first, half a second past
    its estimate at most, so the tab shows the results as soon as the model is stored."""
    from dashboard.train import live

    checked = await run_in_threadpool(_checked_progress_request, request)
    if isinstance(checked, Response):
        return checked
    job, points, records, curves, wait = checked
    deadline = time.monotonic() + wait
    while wait and not job.ended and time.monotonic() < deadline:
        await asyncio.sleep(ENDED_CHECK_SECONDS)
    data = await run_in_threadpool(live.poll_data, job, points, records, curves)
    return JSONResponse(data, headers=NO_STORE)


def _checked_progress_request(request: Request):
    """(job, points, records, curves, seconds to wait for its end) of a progress request, or the refusal."""
    from dashboard.train import live

    job_id = request.path_params["job_id"]
    job = jobs.job(job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None:
        return JSONResponse({"error": "This server does not know that training."}, status_code=404, headers=NO_STORE)
    actor = request_actor(request)
    state = job.progress_since(1 << 30)
    try:
        check_sees(actor, state.owner_keys)
    except store.PermissionDenied as refusal:
        return JSONResponse({"error": str(refusal)}, status_code=403, headers=NO_STORE)
    try:
        points, records = _count(request, "since"), _count(request, "records")
    except ValueError as error:
        return JSONResponse({"error": str(error)}, status_code=400, headers=NO_STORE)
    curves = request.query_params.get("curves", "1") != "0"
    return job, points, records, curves, ending_wait(state, live.FINISHING_WAIT_SECONDS)


def ending_wait(state, finishing_seconds: float) -> float:
    """Seconds a poll waits for the job's end: after its last epoch, finishing_seconds at most (the test figures
    and the saving); with at most ENDING_SOON_SECONDS left by its estimate, that estimate and half a second more;
    else 0 (the tab's next poll comes soon enough)."""
    if state.status != "running" or not state.epochs:
        return 0.0
    if len(state.history) >= state.epochs:
        return finishing_seconds
    if state.eta_seconds is not None and state.eta_seconds <= ENDING_SOON_SECONDS:
        return state.eta_seconds + 0.5
    return 0.0


def check_sees(actor, owner_keys: list[str]) -> None:
    """PermissionDenied unless actor shares the job (or is the teacher)."""
    if actor is None:
        raise store.PermissionDenied("Give your name on this browser first: a training's progress goes only to "
                                     "the students who asked for it.")
    if not actor.teacher and actor.key not in owner_keys:
        raise store.PermissionDenied("This training belongs to someone else: its progress goes only to them "
                                     "(and the teacher).")


def board_version(request: Request) -> Response:
    """What the board watches: changes when a model is added, renamed or deleted, or test accuracy revealed."""
    return JSONResponse({"version": board_counter()}, headers=NO_STORE)


def board_counter() -> str:
    """The class board's change counter (the pages and this route compare it as it is)."""
    return f"{store.generation()}-{int(students.test_revealed())}"


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics_text, methods=["GET"]),
    Route("/api/jobs/{job_id}/progress", job_progress, methods=["GET"]),
    Route("/api/board/version", board_version, methods=["GET"]),
]
