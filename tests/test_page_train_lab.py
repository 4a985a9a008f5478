"""The overfitting lab's settings on the Train page: from a lesson link (locked, hidden, bad values warned), the
sizes said in a caption, refused values as a sentence, and a training that uses them (AppTest)."""

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from dashboard import jobs
from mnistlib import store
from tests.page_runs import run_page, texts

ADA = store.Actor("ada", "Ada")


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def test_a_lesson_link_locks_the_lab_settings_and_the_page_says_the_sizes():
    app = run_page("app_pages/train.py", query={"train_images": "200", "label_noise": "0.3",
                                                "lock": "train_images,label_noise"})
    assert not app.warning and not app.error
    images, noise = app.number_input(key="train_train_images"), app.slider(key="train_label_noise")
    assert (images.value, images.disabled, noise.value, noise.disabled) == (200, True, 0.3, True)
    # The small subset: 1,000 training images, 100 held back for validation, 200 of the other 900 learned from.
    shown = texts(app)
    assert "learn from 200 of the 900 training images" in shown and "the 100 validation images are the same" in shown
    assert "60 of those 200 training labels are replaced by a wrong class" in shown
    assert app.query_params["train_images"] == "200" and app.query_params["label_noise"] == "0.3"


@pytest.mark.parametrize("parameter, text", [("label_noise", "0.95"), ("train_images", "-5"), ("train_images", "x")])
def test_a_bad_lab_value_in_a_link_warns_and_uses_the_default(parameter, text):
    app = run_page("app_pages/train.py", query={parameter: text})
    assert any(f"{parameter}=" in warning.value and "using the default" in warning.value for warning in app.warning)
    assert app.number_input(key="train_train_images").value == 0 and app.slider(key="train_label_noise").value == 0


def test_too_few_training_images_is_a_sentence_and_nothing_can_train():
    app = run_page("app_pages/train.py", session={"actor": ADA}, query={"train_images": "50"})
    assert [error.value for error in app.error] == [
        "Training images must be at least 10 per class: 100 for 10 classes (got 50)."]
    assert app.button(key="train_start").disabled


def test_a_training_with_the_lab_settings_sends_them_in_its_request():
    app = run_page("app_pages/train.py", session={"actor": ADA},
                   query={"train_images": "300", "label_noise": "0.2", "epochs": "1", "seed": "11"})
    app.button(key="train_start").click().run()
    assert not app.exception
    job = jobs.job(app.session_state["job_id"])
    assert (job.request.train_images, job.request.label_noise) == (300, 0.2)
    state = job.wait(timeout=300)
    assert state.status == "finished", state.message
    card = store.load_card(state.model_id)
    assert (card.train_images, card.label_noise, card.labels_changed) == (300, 0.2, 60)


def test_the_readmes_lab_link_opens_what_it_says():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    [link] = [found for found in re.findall(r"`(http://localhost:8501/Train\?[^`]+)`", readme) if "train_images" in found]
    app = run_page("app_pages/train.py", query=dict(parse_qsl(urlsplit(link).query)))
    assert not app.warning and not app.error
    assert app.number_input(key="train_train_images").value == 500 and app.slider(key="train_label_noise").disabled
    assert "150 of those 500 training labels are replaced by a wrong class" in texts(app)
