"""The overfitting lab's L2, augmentation and early stopping on the Train page (AppTest): a lesson link sets, locks
and hides them, a bad value is a warning and the default, the page says what they do, and a training sends them."""

import numpy as np
import pytest

from dashboard import jobs
from dashboard.train import settings as train_settings
from mnistlib import concepts, store
from tests.page_runs import run_page, texts

ADA = store.Actor("ada", "Ada")


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def lab_widgets(app) -> dict:
    """(value, disabled) of the three controls."""
    return {"l2": (app.select_slider(key="train_l2").value, app.select_slider(key="train_l2").disabled),
            "augment": (app.checkbox(key="train_augment").value, app.checkbox(key="train_augment").disabled),
            "early_stopping": (app.number_input(key="train_early_stopping").value,
                               app.number_input(key="train_early_stopping").disabled)}


def test_a_lesson_link_sets_and_locks_them_and_the_page_says_what_they_do():
    app = run_page("app_pages/train.py", query={"l2": "0.01", "augment": "1", "early_stopping": "3", "epochs": "20",
                                                "lock": "l2,augment,early_stopping"})
    assert not app.warning and not app.error
    assert lab_widgets(app) == {"l2": (0.01, True), "augment": (True, True), "early_stopping": (3, True)}
    shown = texts(app)
    # The small subset: 1,000 training images, 100 held back for validation.
    assert "the weights still learn from 900 training images" in shown
    assert "the 100 validation images are never changed" in shown
    assert "training stops after 3 epochs in a row without a lower validation loss (at most 20 epochs)" in shown
    assert "This lesson fixes the L2 weight decay, the augmentation and the early stopping patience." in [
        info.value for info in app.info]
    assert {name: app.query_params[name] for name in ("l2", "augment", "early_stopping")} == {
        "l2": "0.01", "augment": "1", "early_stopping": "3"}
    helps = {app.select_slider(key="train_l2").help, app.checkbox(key="train_augment").help,
             app.number_input(key="train_early_stopping").help}
    assert helps == {concepts.note("l2"), concepts.note("augment"), concepts.note("early_stopping")}


def test_a_hidden_setting_is_not_shown_and_still_sent():
    app = run_page("app_pages/train.py", session={"actor": ADA},
                   query={"augment": "1", "hide": "augment", "epochs": "1"})
    assert not app.warning and not [box for box in app.checkbox if box.key == "train_augment"]
    assert "sets the augmentation to 1" in texts(app)
    app.button(key="train_start").click().run()
    assert not app.exception
    assert jobs.job(app.session_state["job_id"]).request.augment is True


@pytest.mark.parametrize("parameter, text", [("l2", "0.5"), ("l2", "-0.01"), ("l2", "abc"), ("augment", "yes"),
                                             ("augment", "2"), ("early_stopping", "-1"), ("early_stopping", "99")])
def test_a_bad_value_in_a_link_warns_and_uses_the_default(parameter, text):
    app = run_page("app_pages/train.py", query={parameter: text})
    assert [warning.value for warning in app.warning] == [
        f"The link's {parameter}={train_settings.shown_text(text)} is not one of the choices here; using the default."]
    assert lab_widgets(app) == {"l2": (0.0, False), "augment": (False, False), "early_stopping": (0, False)}
    assert parameter not in app.query_params


def test_early_stopping_without_a_validation_split_is_a_sentence_and_nothing_trains():
    app = run_page("app_pages/train.py", session={"actor": ADA}, query={"early_stopping": "2", "validation_split": "0"})
    assert [error.value for error in app.error] == [
        "Early stopping watches the validation loss: it needs a validation split above 0."]
    assert app.button(key="train_start").disabled


def test_a_training_sends_them_in_its_request_and_the_card_keeps_them():
    app = run_page("app_pages/train.py", session={"actor": ADA},
                   query={"l2": "0.001", "augment": "1", "early_stopping": "1", "epochs": "3", "seed": "5"})
    app.button(key="train_start").click().run()
    assert not app.exception
    job = jobs.job(app.session_state["job_id"])
    assert (job.request.l2, job.request.augment, job.request.early_stopping) == (0.001, True, 1)
    state = job.wait(timeout=300)
    assert state.status == "finished", state.message
    lab = store.load_card(state.model_id).lab
    assert (lab["l2"], lab["augment"], lab["early_stopping"]) == (0.001, True, 1)
    assert 1 <= lab["best_epoch"] <= lab["stopped_epoch"] <= 3


def test_the_previews_show_relabelled_and_augmented_training_images_with_text():
    from mnistlib import datasets, lab_preview
    from mnistlib.training import lab_data

    app = run_page("app_pages/train.py", query={"train_images": "200", "label_noise": "0.3", "augment": "1",
                                                "seed": "4"})
    assert not app.exception and not app.error
    # What the page shows is the worker's own training part: the same relabelled images, true and wrong labels.
    data = datasets.load("mnist", subset="small")
    images, given, changed = lab_data.training_part(data.x_train[:900], data.y_train[:900], 200, 0.3, 4, 10)
    shown = lab_preview.relabelled(data, 0.1, 200, 0.3, seed=4, count=8)
    assert len(changed) == 60 and shown.positions.tolist() == changed[:8].tolist()
    np.testing.assert_array_equal(shown.images, images[changed[:8]])
    assert (shown.given_labels == given[changed[:8]]).all() and (shown.true_labels != shown.given_labels).all()
    originals, augmented = lab_preview.augmented(data, 0.1, 200, seed=4, count=8)
    np.testing.assert_array_equal(originals, images[:8])
    assert augmented.shape == (8, 28, 28) and augmented.dtype == np.uint8 and (augmented != originals).any()
    # On the page: both expanders, every image with a caption and a text alternative.
    relabelled, augmented_images = images_in(app, "🏷️ Show a few relabelled images"), \
        images_in(app, "🔀 Show a few augmented images")
    names = data.class_names
    assert relabelled == [(f"{names[true]}, labelled {names[given]}",
                           f"Training image {position + 1}: a {names[true]}, given the wrong label {names[given]}")
                          for true, given, position in zip(shown.true_labels, shown.given_labels, shown.positions,
                                                           strict=True)]
    assert len(augmented_images) == 16 and all(caption and alt for caption, alt in augmented_images)


def images_in(app, label: str) -> list[tuple[str, str]]:
    """(caption, alt text) of every image in the expander with this label."""
    [expander] = [expander for expander in app.expander if expander.label == label]
    return [(image.caption, image.alt) for child in expander.children.values() if child.type == "image"
            for image in child.proto.imgs]


def test_the_readmes_l2_link_opens_what_it_says():
    import re
    from pathlib import Path
    from urllib.parse import parse_qsl, urlsplit

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    [link] = [found for found in re.findall(r"`(http://localhost:8501/Train\?[^`]+)`", readme) if "l2=" in found]
    app = run_page("app_pages/train.py", query=dict(parse_qsl(urlsplit(link).query)))
    assert not app.warning and not app.error
    assert lab_widgets(app) == {"l2": (0.01, False), "augment": (True, True), "early_stopping": (3, False)}
