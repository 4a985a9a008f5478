"""Lesson links on the Train page: every setting in the URL, locked and hidden controls enforced on the server, bad
values and names warned about, and the "Copy lesson link" builder (AppTest; tests/browser/test_lesson_link.py
clicks the same in Chromium)."""

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from dashboard import jobs
from dashboard.train import lesson_link as train_lesson_link
from dashboard.train import settings as train_settings
from mnistlib import models, names, store
from tests.page_runs import run_page, texts

ADA = store.Actor("ada", "Ada")
# Every setting away from its default, on the controls' steps.
EVERY_SETTING = {"architecture": "cnn", "layers": "2", "units": "64", "dropout": "0.4", "optimizer": "rmsprop",
                 "learning_rate": "0.003", "batch_size": "128", "epochs": "7", "validation_split": "0.2",
                 "seed": "42", "train_images": "500", "label_noise": "0.3", "l2": "0.01",
                 "augment": "1", "early_stopping": "5"}
WIDGET_VALUES = {"train_architecture": "cnn", "train_layers": 2, "train_units": 64, "train_dropout_cnn": 0.4,
                 "train_optimizer": "rmsprop", "train_learning_rate": 0.003, "train_batch_size": 128,
                 "train_epochs": 7, "train_validation_split": 0.2, "train_seed": 42, "train_train_images": 500,
                 "train_label_noise": 0.3, "train_l2": 0.01, "train_augment": True, "train_early_stopping": 5}


@pytest.fixture(autouse=True)
def small_subset(monkeypatch):
    monkeypatch.setenv("MNISTLIB_SUBSET", "small")


def widgets(app) -> dict:
    """Every keyed settings widget on the page: key → (value, disabled)."""
    found = {}
    for kind in ("radio", "slider", "select_slider", "selectbox", "number_input", "checkbox"):
        for widget in getattr(app, kind):
            if widget.key and widget.key.startswith("train_") and widget.key != "train_live_curves":
                found[widget.key] = (widget.value, widget.disabled)
    return found


def values(app) -> dict:
    return {key: value for key, (value, _) in widgets(app).items()}


def lesson_link(app) -> str:
    """The link the "Copy lesson link" box shows."""
    [code] = [element.value for element in app.code if element.language != "python"]
    return code


def query_of(link: str) -> dict:
    return dict(parse_qsl(urlsplit(link).query))


# ## Every setting in the URL


def test_a_link_sets_every_setting_and_the_page_keeps_them_in_its_url():
    app = run_page("app_pages/train.py", query={"dataset": "fashion_mnist", **EVERY_SETTING})
    assert not app.warning and values(app) == WIDGET_VALUES
    in_url = {key: value for key, value in app.query_params.items() if key != "model"}  # a stored model, if any
    assert in_url == {"dataset": "fashion_mnist", **EVERY_SETTING}
    parameters = models.count_parameters(models.ModelSpec("cnn", 64, 2, 0.4, "rmsprop", 0.003, 128, 0.2, 42), 10)
    assert f"**Total parameters: {parameters:,}**" in texts(app)
    assert query_of(lesson_link(app)) == {"dataset": "fashion_mnist", **EVERY_SETTING}  # and the link says so


def test_the_short_names_of_earlier_links_are_read_and_replaced_by_the_full_ones():
    app = run_page("app_pages/train.py", query={"arch": "cnn", "lr": "0.01", "batch": "64", "val": "0.15",
                                            "lock": "lr,batch"})
    assert not app.warning
    assert (values(app)["train_architecture"], values(app)["train_learning_rate"]) == ("cnn", 0.01)
    assert widgets(app)["train_batch_size"] == (64, True) and values(app)["train_validation_split"] == 0.15
    assert {key: app.query_params.get(key) for key in ("arch", "lr", "batch", "val", "lock")} == {
        "arch": None, "lr": None, "batch": None, "val": None, "lock": "learning_rate,batch_size"}
    assert app.query_params["learning_rate"] == "0.01" and app.query_params["validation_split"] == "0.15"


def test_dropout_belongs_to_the_links_architecture():
    app = run_page("app_pages/train.py", query={"architecture": "cnn"})
    assert values(app)["train_dropout_cnn"] == 0.25 and "dropout" not in app.query_params  # the CNN's default
    app = run_page("app_pages/train.py", query={"architecture": "cnn", "dropout": "0"})
    assert values(app)["train_dropout_cnn"] == 0.0 and app.query_params["dropout"] == "0"
    app = run_page("app_pages/train.py", query={"dropout": "0.25"})
    assert values(app)["train_dropout_dense"] == 0.25 and app.query_params["dropout"] == "0.25"


def test_a_changed_setting_goes_to_the_url_and_a_default_leaves_it():
    app = run_page("app_pages/train.py", query={"epochs": "3"})
    app.number_input(key="train_epochs").set_value(9).run()
    app.slider(key="train_validation_split").set_value(0.3).run()
    assert not app.exception and app.query_params["epochs"] == "9" and app.query_params["validation_split"] == "0.3"
    app.number_input(key="train_epochs").set_value(5).run()
    assert "epochs" not in app.query_params and query_of(lesson_link(app)) == {"dataset": "mnist",
                                                                                "validation_split": "0.3"}


@pytest.mark.parametrize("parameter, text", [
    ("architecture", "rnn"), ("architecture", "CNN"), ("layers", "6"), ("layers", "2.5"), ("units", "100"),
    ("dropout", "0.33"), ("dropout", "0.95"), ("dropout", "nan"), ("optimizer", "Adam"), ("learning_rate", "0.002"),
    ("lr", "inf"), ("batch_size", "1e3"), ("batch", "33"), ("epochs", "0"), ("epochs", "51"), ("seed", "-1"),
    ("seed", str(2**31)), ("validation_split", "0.6"), ("val", "0.1.1"), ("epochs", ""), ("units", "9" * 5000),
])
def test_a_bad_value_in_a_link_warns_and_uses_the_default(parameter, text):
    app = run_page("app_pages/train.py", query={parameter: text, "epochs": "3"} if parameter != "epochs" else
                   {parameter: text})
    [warning] = app.warning
    assert warning.value == (f"The link's {parameter}={names.markdown_escape(repr(text[:40]))} is not one of the "
                             "choices here; using the default.")
    name = train_settings.ALIASES.get(parameter, parameter)
    default = train_settings.default_values("dense")[name]
    assert values(app)[train_settings.widget_key(name, "dense")] == default
    assert parameter not in app.query_params and name not in app.query_params


def test_bad_lock_and_hide_names_warn_and_are_ignored():
    app = run_page("app_pages/train.py", query={"lock": "optimizer,colour,,", "hide": " Seed ,units;dropout"})
    every = ", ".join(train_settings.SETTINGS)
    assert [warning.value for warning in app.warning] == [
        f"The link's hide={names.markdown_escape(repr('units;dropout'))} is not one of the settings here ({every}); "
        "ignoring it.",
        f"The link's lock='colour' is not one of the settings here ({every}); ignoring it."]
    assert widgets(app)["train_optimizer"] == ("adam", True) and "train_seed" not in widgets(app)
    assert not any(disabled for key, (_, disabled) in widgets(app).items() if key != "train_optimizer")
    assert (app.query_params["lock"], app.query_params["hide"]) == ("optimizer", "seed")
    app = run_page("app_pages/train.py", query={"lock": "colour", "hide": ","})
    assert len(app.warning) == 1 and "lock" not in app.query_params and "hide" not in app.query_params
    assert not any(disabled for _, disabled in widgets(app).values()) and "This lesson" not in texts(app)


# ## Locked and hidden controls


def test_a_lock_disables_the_controls_at_the_links_values_and_says_so():
    app = run_page("app_pages/train.py", query={"optimizer": "sgd", "learning_rate": "0.01",
                                            "lock": "optimizer,learning_rate"})
    assert "This lesson fixes the optimizer and the learning rate." in [info.value.strip("🔒 ") for info in app.info]
    assert widgets(app)["train_optimizer"] == ("sgd", True) and widgets(app)["train_learning_rate"] == (0.01, True)
    assert not any(disabled for key, (_, disabled) in widgets(app).items()
                   if key not in ("train_optimizer", "train_learning_rate"))
    assert "optimizer=keras.optimizers.SGD(learning_rate=0.01)" in app.code[-1].value  # the page's own Keras code


def test_a_lock_holds_against_a_forged_session_value_and_a_changed_url():
    app = run_page("app_pages/train.py", query={"dropout": "0.5", "epochs": "2", "lock": "dropout,epochs"})
    app.session_state["train_epochs"] = 40  # what a forged widget message would do
    app.session_state["train_dropout_dense"] = 0.1
    app.query_params.clear()  # the URL edited (or a switch to another page and back): the lesson stays
    app.query_params["epochs"] = "30"
    app.run()
    assert not app.exception
    assert widgets(app)["train_epochs"] == (2, True) and widgets(app)["train_dropout_dense"] == (0.5, True)
    assert app.query_params["epochs"] == "2" and app.query_params["lock"] == "dropout,epochs"
    app.radio(key="train_architecture").set_value("cnn").run()  # the lesson's dropout, whichever architecture
    assert widgets(app)["train_dropout_cnn"] == (0.5, True) and "layers.Dropout(0.5)" in app.code[-1].value
    assert "epochs=2," in app.code[-1].value


def test_hide_removes_the_control_and_notes_its_fixed_value():
    app = run_page("app_pages/train.py", query={"architecture": "cnn", "epochs": "3", "hide": "architecture,epochs",
                                            "lock": "architecture"})
    assert "train_architecture" not in widgets(app) and "train_epochs" not in widgets(app)
    assert "train_dropout_cnn" in widgets(app)  # the hidden architecture is the CNN
    assert "This lesson sets the architecture to CNN and the number of epochs to 3." in [
        info.value.strip("🔒 ") for info in app.info]
    assert "layers.Conv2D(32, 3" in app.code[-1].value and "epochs=3," in app.code[-1].value
    assert (app.query_params["hide"], app.query_params.get("lock")) == ("architecture,epochs", None)


def test_a_training_from_a_lesson_link_uses_the_locked_and_hidden_values():
    before = {card.id for card in store.list_models()}
    app = run_page("app_pages/train.py", session={"actor": ADA},
                   query={"optimizer": "sgd", "learning_rate": "0.1", "epochs": "1", "units": "32", "seed": "7",
                          "lock": "optimizer,learning_rate,units", "hide": "epochs,seed"})
    app.session_state["train_optimizer"] = "rmsprop"  # forged values for every fixed setting
    app.session_state["train_learning_rate"] = 3.0
    app.session_state["train_units"] = 1024
    app.session_state["train_epochs"] = 50
    app.session_state["train_seed"] = 1
    app.select_slider(key="train_batch_size").set_value(64).run()  # a free setting the student changes
    app.button(key="train_start").click().run()
    assert not app.exception
    expected = models.ModelSpec(hidden_units=32, optimizer="sgd", learning_rate=0.1, batch_size=64, seed=7)
    job = jobs.job(app.session_state["job_id"])
    assert job.request.spec == expected and job.request.epochs == 1
    job.wait(timeout=300)
    [card] = [card for card in store.list_models() if card.id not in before]
    assert models.ModelSpec.from_dict(card.spec) == expected and card.epochs_run == 1


# ## Copy lesson link


def test_the_copy_lesson_link_builds_a_link_that_reproduces_the_page():
    app = run_page("app_pages/train.py", query={"dataset": "fashion_mnist", "optimizer": "sgd", "lock": "optimizer"})
    assert app.multiselect(key="train_link_lock").value == ["optimizer"]  # the lesson the page has, to start from
    app.number_input(key="train_epochs").set_value(12).run()
    app.select_slider(key="train_units").set_value(256).run()
    app.multiselect(key="train_link_lock").set_value(["units", "optimizer", "seed"]).run()
    app.multiselect(key="train_link_hide").set_value(["epochs", "seed"]).run()
    link = lesson_link(app)
    assert link.startswith("/Train?") and "Put this app's address in front of it." in texts(app)  # no browser here
    assert "A setting in both lists is hidden." in texts(app)
    assert query_of(link) == {"dataset": "fashion_mnist", "units": "256", "optimizer": "sgd", "epochs": "12",
                              "seed": "0", "lock": "units,optimizer", "hide": "epochs,seed"}
    opened = run_page("app_pages/train.py", query=query_of(link))  # the link in a new session
    assert not opened.warning and opened.query_params["dataset"] == "fashion_mnist"
    assert widgets(opened)["train_units"] == (256, True) and widgets(opened)["train_optimizer"] == ("sgd", True)
    assert "train_epochs" not in widgets(opened) and "train_seed" not in widgets(opened)
    assert lesson_link(opened) == link


def test_the_link_writes_values_on_the_controls_steps():
    setting = train_settings.SETTINGS["validation_split"]
    assert setting.text(0.15000000000000002) == "0.15" and setting.parse(" 0.15 ") == 0.15
    link = train_lesson_link.lesson_url("http://lab:8501/Train", "my digits", {
        **train_settings.default_values("dense"), "dropout": 0.30000000000000004, "learning_rate": 0.0003},
        locked=["seed", "dropout"], hidden=["seed"])
    assert link == ("http://lab:8501/Train?dataset=my+digits&dropout=0.3&learning_rate=0.0003&seed=0&lock=dropout"
                    "&hide=seed")


def test_lesson_notes_read_as_sentences():
    note = train_settings.lesson_note
    Lesson = train_settings.Lesson
    assert note(Lesson()) is None
    assert note(Lesson({"seed": 3}, ("seed",))) == "🔒 This lesson fixes the seed."
    assert note(Lesson({"seed": 3, "units": 64, "architecture": "dense", "dropout": 0.2},
                       ("units", "seed"), ("architecture", "dropout"))) == (
        "🔒 This lesson fixes the units per hidden layer and the seed, and sets the architecture to Dense (the "
        "tutorial's) and the dropout to 0.2.")


def test_every_setting_can_be_locked_and_hidden_at_once():
    app = run_page("app_pages/train.py", query={**EVERY_SETTING, "hide": ",".join(train_settings.SETTINGS)})
    assert not app.warning and widgets(app) == {}
    parameters = models.count_parameters(models.ModelSpec("cnn", 64, 2, 0.4, "rmsprop", 0.003, 128, 0.2, 42), 10)
    assert f"**Total parameters: {parameters:,}**" in texts(app)
    assert "epochs=7," in app.code[-1].value and "keras.utils.set_random_seed(42)" in app.code[-1].value


def test_the_readmes_lesson_link_opens_what_it_says():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    [link] = [found for found in re.findall(r"`(http://localhost:8501/Train\?[^`]+)`", readme)
              if "train_images" not in found and "l2=" not in found]  # those: tests/test_page_lab*.py
    app = run_page("app_pages/train.py", query=query_of(link))
    assert not app.warning
    assert widgets(app)["train_optimizer"] == ("sgd", True) and widgets(app)["train_learning_rate"] == (0.1, True)
    assert "train_epochs" not in widgets(app) and "epochs=3," in app.code[-1].value
    assert "This lesson fixes the optimizer and the learning rate, and sets the number of epochs to 3." in [
        info.value.strip("🔒 ") for info in app.info]
