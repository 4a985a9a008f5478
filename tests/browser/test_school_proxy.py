"""A school: two dashboard processes on one store behind HAProxy (deploy/serve_school.py, as `make serve-school`
starts it). Two students land on different processes and Quick start the same training at once: one training,
one model, both see it. Then the process training a student's job is SIGKILLed: the other one trains it, the
model is stored, and the student's tab reconnects through the proxy and carries on."""

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from deploy.serve_school import School
from mnistlib.store import folders
from tests.browser.conftest import REPO, click_train, free_port, give_name, settle

PROCESS_HEADER = "x-mnist-lab-process"  # set by HAProxy (deploy/haproxy.cfg.template): which process answered


@pytest.fixture
def school():
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.skip("Debian's haproxy is not installed (make test installs it)")
    run_dir = REPO / "tests" / "output" / "school"  # the config, the logs and the store, kept for a look afterwards
    shutil.rmtree(run_dir, ignore_errors=True)
    environment = {"MNISTLIB_SUBSET": "small", "MNISTLIB_MODELS_DIR": str(run_dir / "models"),
                   "MNISTLIB_MAX_TRAININGS": "1"}
    running = School([free_port(), free_port()], free_port(), run_dir, environment)
    try:
        yield running.start()
    finally:
        running.stop()


def models_in(folder: Path) -> list[dict]:
    """The stored models' cards and owner keys, read from the folders (the store's truth): a folder named as a model
    id, as the store lists them (not a `.saving-…` folder a process killed in the middle of a save left behind)."""
    found = []
    for card in sorted(path for path in folder.glob("*/card.json") if folders.ID_PATTERN.fullmatch(path.parent.name)):
        owners = json.loads((card.parent / "owners.json").read_text())
        found.append({**json.loads(card.read_text()), "owners": sorted(owner["display"] for owner in owners)})
    return found


def process_of(tab) -> str:
    """The process behind this tab now, from a request the tab itself makes through the proxy."""
    return tab.evaluate("fetch('/_stcore/health').then(response => response.headers.get('X-MNIST-Lab-Process'))")


def test_two_processes_behind_the_proxy_act_as_one_server(browser, school):
    models_folder = Path(school.environment["MNISTLIB_MODELS_DIR"])
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    ada, bob = (context.new_page() for context in contexts)
    landed = []
    for tab, name in ((ada, "Ada"), (bob, "Bob")):
        response = tab.goto(school.url)  # the first student's websocket is open before the second arrives
        tab.wait_for_selector("h1", timeout=60_000)
        give_name(tab, name)
        landed.append(response.headers[PROCESS_HEADER])
    assert sorted(landed) == ["p1", "p2"]  # one student on each process
    assert [process_of(ada), process_of(bob)] == landed  # and they stay there (the cookie)

    buttons = [tab.get_by_role("button", name="Quick start: train the default model on MNIST digits") for tab in (ada, bob)]
    for button in buttons:
        expect(button).to_be_enabled()
    for button in buttons:  # both click at the same moment
        button.click()
    for tab in (ada, bob):  # (the job= in the URL becomes model= once it is stored)
        expect(tab.get_by_text("Test accuracy").first).to_be_visible(timeout=240_000)
    stored = models_in(models_folder)
    assert len(stored) == 1, "one training, one model"
    assert stored[0]["owners"] == ["Ada", "Bob"]  # in both students' lists

    # Ada trains something longer on her process; it is killed while training it.
    settle(ada)
    ada.goto(f"{school.url}/Train?seed=5&epochs=6&batch_size=8")
    ada.wait_for_selector("h1", timeout=60_000)
    settle(ada)
    click_train(ada)
    ada.wait_for_url("**job=*", timeout=60_000)
    ada.wait_for_selector("text=/Epoch [2-6]\\/6/", timeout=240_000)
    killed = landed[0]
    school.kill(school.ports[int(killed.removeprefix("p")) - 1])

    # The live process trains her job again and stores it. She reloads her link through the proxy, as after any
    # server trouble: it reaches the live process, which shows her job's results, with her name still hers.
    job_link = ada.url
    job_id = re.search(r"job=([0-9a-f]{12})", job_link).group(1)
    ada.goto(job_link)
    try:
        expect(ada.get_by_text("Test accuracy").first).to_be_visible(timeout=300_000)
    finally:
        ada.screenshot(path=str(school.run_dir / "after_the_kill.png"), full_page=True)
    expect(ada.get_by_text("Test accuracy").first).to_be_visible()
    assert process_of(ada) == landed[1]
    expect(ada.locator('[data-testid="stSidebar"]').get_by_text("You: Ada")).to_be_visible()
    trained = [card for card in models_in(models_folder) if card["epochs_run"] == 6]
    assert len(trained) == 1 and trained[0]["owners"] == ["Ada"]
    with sqlite3.connect(models_folder / "index.sqlite") as database:  # her job's record names that model
        row = database.execute("SELECT status, model_id FROM jobs WHERE id = ?", (job_id,)).fetchone()
    assert row == ("finished", trained[0]["id"])
    settle(bob)
    for tab in (ada, bob):
        assert tab.locator('[data-testid="stException"]').count() == 0
    ada.screenshot(path=str(REPO / "docs" / "screenshots" / "school_taken_over_training.png"), full_page=True)
    for context in contexts:
        context.close()
    assert os.path.exists(school.run_dir / "haproxy.cfg")
