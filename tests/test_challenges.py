"""Challenges, judging, ranking, the CSV gradebook and the teacher's CLI, on a private store."""

import csv
import io

import pytest

from mnistlib import challenges, cli, gradebook, judging, store

ADA = store.Actor("ada", "Ada")


def result(key, validation, test, parameters=101_770, epochs=5, created="2026-01-01T00:00"):
    return judging.ModelResult(key, key.title(), f"m-{key}-{validation}", "net", "mnist", "small", "Dense 128",
                               parameters, epochs, 900, 3.0, validation, test, created)


def test_only_the_teacher_sets_a_challenge_and_bad_values_are_refused(models_dir):
    with pytest.raises(store.PermissionDenied):
        challenges.set_challenge(ADA, title="T", dataset="mnist", min_validation_accuracy=0.9)
    for bad in ({"min_validation_accuracy": 1.5}, {"min_validation_accuracy": 0.9, "max_parameters": -1},
                {"min_validation_accuracy": 0.9, "dataset": "nope"}):
        with pytest.raises(ValueError):
            challenges.set_challenge(store.TEACHER, **{"title": "T", "dataset": "mnist", **bad})
    assert challenges.all_challenges() == []
    set_ = challenges.set_challenge(store.TEACHER, title="T", dataset="mnist", min_validation_accuracy=0.9)
    assert challenges.active("mnist") == set_
    with pytest.raises(ValueError):  # one active per dataset
        challenges.set_challenge(store.TEACHER, title="U", dataset="mnist", min_validation_accuracy=0.9)
    with pytest.raises(store.PermissionDenied):
        challenges.end(ADA, set_.id)
    challenges.end(store.TEACHER, set_.id)
    assert challenges.active("mnist") is None and not challenges.all_challenges()[0].is_active


def test_judging_and_ranking_one_best_model_per_student():
    challenge = challenges.Challenge(1, "T", "mnist", 0.9, max_parameters=50_000)
    assert judging.judge(challenge, result("ada", 0.95, 0.9, parameters=40_000)).met
    over = judging.judge(challenge, result("bob", 0.97, 0.96))
    assert over.status == judging.OVER and "101,770 parameters" in over.reasons[0]
    assert judging.judge(challenge, result("cy", 0.8, 0.8, parameters=1)).status == judging.NOT_MET
    results = [result("ada", 0.95, 0.90, 40_000), result("ada", 0.96, 0.91, 40_000),
               result("cy", 0.93, 0.94, 30_000), result("bob", 0.99, 0.99)]
    ranked = judging.ranking(challenge, results)
    assert [(r.student_key, r.validation_accuracy) for r, _ in ranked] == [("ada", 0.96), ("cy", 0.93)]
    final = judging.by_test(ranked)
    assert [r.student_key for r, _ in final] == ["cy", "ada"]
    assert judging.why_orders_differ(ranked, final).startswith("2 of 2 places changed")


@pytest.fixture(scope="module")
def mnist_files(stored_mnist_model):
    """A real small-subset MNIST model's files, read from the session's store (before models_dir swaps it)."""
    card = stored_mnist_model
    return (store.model_bytes(card.id), {key: value for key, value in card.to_dict().items()
                                         if key not in ("id", "created")}, store.load_probabilities(card.id))


def test_cli_sets_challenges_and_writes_the_gradebook(mnist_files, models_dir, capsys):
    assert cli.main(["challenge", "set", "--title", "x", "--dataset", "mnist", "--min-validation-accuracy", "2"]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    store.save(mnist_files[0], mnist_files[1], mnist_files[2], owners=[ADA])
    assert cli.main(["challenge", "set", "--title", "tiny", "--dataset", "mnist", "--min-validation-accuracy",
                     "0.1", "--max-parameters", "1000"]) == 0
    capsys.readouterr()
    assert cli.main(["results", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == gradebook.COLUMNS
    ada = [row for row in rows if row["student"] == "Ada"]
    assert len(ada) == 1 and ada[0]["met_challenge"] == "no" and "parameters" in ada[0]["why_not"]
    assert ada[0]["test_accuracy"] == ""
    assert cli.main(["reveal"]) == 0 and cli.main(["results", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.split("\n", 1)[1])))
    assert all(row["test_accuracy"] for row in rows if row["student"] == "Ada")


def test_the_board_shows_the_active_challenge_and_its_ranking(mnist_files, models_dir, monkeypatch):
    from tests.page_runs import run_page, texts

    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    store.save(mnist_files[0], mnist_files[1], mnist_files[2], owners=[ADA])
    challenges.set_challenge(store.TEACHER, title="Any <b>net</b>", dataset="mnist", min_validation_accuracy=0.1)
    app = run_page("app_pages/board.py", session={"actor": ADA, "board_dataset": "mnist"})
    assert "Any \\<b\\>net\\</b\\>" in texts(app, ("info",))
    ranking = next(frame.value for frame in app.dataframe if "Place" in frame.value.columns)
    assert list(ranking["Student"]) == ["Ada"]


def test_train_says_before_training_whether_the_settings_are_within_the_limits(models_dir, monkeypatch):
    from tests.page_runs import run_page, texts

    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    challenges.set_challenge(store.TEACHER, title="Tiny", dataset="mnist", min_validation_accuracy=0.5,
                             max_parameters=1000)
    app = run_page("app_pages/train.py", session={"actor": ADA})
    assert "101,770 parameters, over the limit of 1,000" in texts(app, ("warning",))


def test_home_shows_the_active_challenge(models_dir, monkeypatch):
    from tests.page_runs import run_page, texts

    monkeypatch.setenv("MNISTLIB_SUBSET", "small")
    challenges.set_challenge(store.TEACHER, title="Beat 90%", dataset="mnist", min_validation_accuracy=0.9)
    assert "Challenge\\: Beat 90%" in texts(run_page("app_pages/home.py"), ("info",))
