"""The HTTP routes beside the pages (dashboard/routes.py), on a real server started as `streamlit run app.py`:
/healthz, /metrics (parsed with prometheus_client's own parser), a job's progress only for those who may see it,
and the class board's change counter.

The job is a real training: queued in the store's journal before the server starts, as a server that stopped leaves
it, so the new server queues it again and trains it (owned by Ada)."""

import dataclasses
import json
import os
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mnistlib import models, store, students
from mnistlib.training import journal
from mnistlib.training.jobs import Job
from mnistlib.training.requests import TrainRequest
from tests.browser.conftest import REPO, start_app, stop_app

JOB_ID = "0123456789ab"
TEACHER_PASSWORD = "routes-test-password"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, {"ada": cookie, "bob": cookie, "teacher": cookie}) of a server whose store holds Ada's queued job."""
    models_dir = tmp_path_factory.mktemp("routes-models")
    saved = {name: os.environ.get(name) for name in ("MNISTLIB_MODELS_DIR", "MNISTLIB_TEACHER_PASSWORD")}
    os.environ.update(MNISTLIB_MODELS_DIR=str(models_dir), MNISTLIB_TEACHER_PASSWORD=TEACHER_PASSWORD)
    try:
        ada, ada_token = students.register("Ada")
        _, bob_token = students.register("Bob")
        teacher_token = students.teacher_sign_in(TEACHER_PASSWORD)
        request = TrainRequest("mnist", models.ModelSpec(seed=7), epochs=2, subset="small")
        journal.record(Job(JOB_ID, request, [ada]))
        environment = {**os.environ, "MNISTLIB_SUBSET": "small"}
        output = REPO / "tests" / "output"
        output.mkdir(exist_ok=True)
        process, url = start_app("app.py", environment, output / "routes-server.log")
        try:
            yield url, {"ada": f"mnistlab_student={ada_token}", "bob": f"mnistlab_student={bob_token}",
                        "teacher": f"mnistlab_teacher={teacher_token}"}
        finally:
            stop_app(process)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def get(url: str, cookie: str = "") -> tuple[int, str, str]:
    """(status, content type, body) of a GET, error statuses included."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def progress(url: str, cookie: str, query: str = "") -> tuple[int, dict]:
    status, _, body = get(f"{url}/api/jobs/{JOB_ID}/progress{query}", cookie)
    return status, json.loads(body)


def finished_job(url: str, cookie: str) -> dict:
    """The job's progress from the start once it ended (it trains on the server meanwhile)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status, data = progress(url, cookie)
        assert status == 200
        if data["status"] in ("finished", "stopped", "failed"):
            return data
        time.sleep(0.5)
    raise AssertionError(f"the job did not end; it is {data['status']}")


def metric_samples(url: str) -> dict:
    """Every sample of /metrics by (name, labels as a sorted tuple)."""
    status, content_type, body = get(f"{url}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def test_healthz_says_ok_and_the_trainers_state(server):
    url, _ = server
    status, content_type, body = get(f"{url}/healthz")
    health = json.loads(body)
    assert status == 200 and content_type == "application/json"
    assert health["status"] == "ok" and health["backend"] == "LocalPool" and health["workers"] >= 1
    assert isinstance(health["queued"], int) and isinstance(health["running"], int)
    assert health["queued"] + health["running"] <= 1  # the one job of this store, until it has ended


def test_a_jobs_progress_goes_to_its_owner_and_the_teacher_only(server):
    url, cookies = server
    status, data = progress(url, cookies["ada"])
    assert status == 200 and data["job"] == JOB_ID and data["epochs"] == 2
    for who in ("bob", ""):  # another student; a browser that gave no name
        status, refusal = progress(url, cookies.get(who, ""))
        assert status == 403 and "error" in refusal and "points" not in refusal
    assert progress(url, cookies["teacher"])[0] == 200
    assert progress(url, "mnistlab_student=not-a-token-of-anyone-here")[0] == 403


def test_unknown_jobs_and_bad_counts_are_refused_with_a_message(server):
    url, cookies = server
    for job_id in ("fedcba987654", "not-a-job-id", "0123456789AB"):
        status, _, body = get(f"{url}/api/jobs/{job_id}/progress", cookies["ada"])
        assert status == 404 and json.loads(body)["error"] == "This server does not know that training."
    for query in ("?since=-1", "?since=abc", "?records=1e9", "?since=99999999999"):
        status, answer = progress(url, cookies["ada"], query)
        assert status == 400 and "whole number" in answer["error"]


def test_progress_after_since_holds_only_the_new_points(server):
    url, cookies = server
    everything = finished_job(url, cookies["ada"])
    assert everything["status"] == "finished" and everything["fraction"] == 1.0
    assert everything["points_from"] == 0 and len(everything["points"]) >= 2
    assert [record[0] for record in everything["records"]] == [1, 2]
    half = len(everything["points"]) // 2
    status, rest = progress(url, cookies["ada"], f"?since={half}&records=1")
    assert status == 200 and rest["points_from"] == half and rest["points"] == everything["points"][half:]
    assert rest["records_from"] == 1 and rest["records"] == everything["records"][1:]
    status, beyond = progress(url, cookies["ada"], "?since=100000&records=9")
    assert beyond["points"] == [] and beyond["records"] == []  # never ahead of the job


def test_metrics_count_students_and_the_ended_training(server):
    url, cookies = server
    finished_job(url, cookies["ada"])
    samples = metric_samples(url)
    assert samples[("mnistlab_students_named", ())] == 2
    assert samples[("mnistlab_sessions", ())] == 0  # no browser connected
    assert samples[("mnistlab_trainings_ended_total", (("status", "finished"),))] == 1
    assert samples[("mnistlab_trainings_ended_total", (("status", "failed"),))] == 0
    assert samples[("mnistlab_trainings", (("status", "running"),))] == 0
    assert samples[("mnistlab_training_seconds_count", ())] == 1 and samples[("mnistlab_training_seconds_sum", ())] > 0
    kinds = {dict(labels)["kind"] for name, labels in samples if name == "mnistlab_reruns_total"}
    assert kinds == {"page", "fragment-live", "fragment-board", "browse-follow-up"}


def test_the_board_counter_changes_when_test_accuracy_is_revealed(server):
    url, _ = server
    status, _, body = get(f"{url}/api/board/version")
    before = json.loads(body)["version"]
    assert status == 200 and before.endswith("-0")
    students.reveal_test(store.TEACHER, True)  # in the store the server reads, as the teacher's button does
    after = json.loads(get(f"{url}/api/board/version")[2])["version"]
    assert after != before and after.endswith("-1")


def test_a_poll_waits_for_the_end_only_when_the_job_is_about_to_end():
    from dashboard.routes import ENDING_SOON_SECONDS, ending_wait
    from mnistlib.training.jobs import JobState

    record = {"epoch": 1, "loss": 1.0, "accuracy": 0.5}
    last_epoch = JobState(status="running", epoch=5, epochs=5, history=[record] * 4)
    assert ending_wait(JobState(status="running", epoch=5, epochs=5, history=[record] * 5), 3.0) == 3.0  # saving
    assert ending_wait(dataclasses.replace(last_epoch, eta_seconds=0.4), 3.0) == 0.9  # its estimate and 0.5 s
    assert ending_wait(dataclasses.replace(last_epoch, eta_seconds=ENDING_SOON_SECONDS + 0.1), 3.0) == 0.0
    assert ending_wait(dataclasses.replace(last_epoch, eta_seconds=None), 3.0) == 0.0  # no estimate yet
    early = JobState(status="running", epoch=4, epochs=5, history=[record] * 3)
    assert ending_wait(dataclasses.replace(early, eta_seconds=0.6), 3.0) == 1.1  # by the estimate, not the epoch
    assert ending_wait(dataclasses.replace(early, eta_seconds=30.0), 3.0) == 0.0
    for status in ("queued", "starting", "paused", "finished", "stopped", "failed"):
        assert ending_wait(dataclasses.replace(last_epoch, status=status, eta_seconds=0.4), 3.0) == 0.0
