"""The Train page's end of a run (AppTest, a real training): one sentence on the final accuracy gap against the
validation figure's noise, naming the lab settings and saying training accuracy is against the noisy labels."""

import math
import time

import pytest

from dashboard import jobs
from mnistlib import datasets, names, overfitting, store
from tests.page_runs import run_page, texts


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def test_the_end_of_a_lab_run_says_its_gap_against_noise_and_its_settings():
    app = run_page("app_pages/train.py", session={"actor": store.Actor("gap", "Gap")},
                   query={"train_images": "300", "label_noise": "0.2", "epochs": "3", "seed": "19"})
    app.button(key="train_start").click().run()
    assert not app.exception
    state = jobs.job(app.session_state["job_id"]).wait(timeout=300)
    assert state.status == "finished", state.message
    deadline = time.monotonic() + 60
    while not app.metric and time.monotonic() < deadline:  # the page's poll shows the result once it has it
        app.run()
        assert not app.exception
    card = store.load_card(state.model_id)
    size = len(datasets.load("mnist", subset="small").y_train)
    validation_images = size - math.floor(size * 0.9)  # the default validation_split, cut as Keras cuts it
    expected = overfitting.gap_sentence(overfitting.gap_verdict(
        card.history, validation_images, {"train_images": 300, "label_noise": 0.2}))
    assert names.as_text(expected) in texts(app)
    assert f"on {validation_images:,} validation images" in expected
    assert "(measured against its training labels, 20% of which were replaced by a wrong class)" in expected
    assert expected.endswith("lab settings changed from their defaults: 300 training images, 20% noisy labels.")
