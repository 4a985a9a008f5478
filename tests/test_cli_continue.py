"""`python -m mnistlib continue MODEL_ID --epochs N`: the Train page's +N epochs from the command line."""

import re

import numpy as np
import pytest

from mnistlib import cli, store
from mnistlib.training import continuing


def model_id(out: str) -> str:
    """The id in the command's last line, `model id ID (finished, N epochs…)`."""
    return re.search(r"^model id (\S+) \(", out, re.MULTILINE).group(1)


def run(capsys, *arguments) -> tuple[int, str, str]:
    status = cli.main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_train_two_then_continue_one_is_the_three_epoch_model_and_the_pages_continuation(models_dir, capsys):
    status, out, _ = run(capsys, "train", "--subset", "small", "--epochs", "2", "--seed", "31")
    assert status == 0
    parent = model_id(out)
    status, out, err = run(capsys, "continue", parent, "--epochs", "1", "--student", "Ada")
    assert status == 0, err
    assert "Continuing MNIST digits · " in out and f"({parent}, 2 epochs) for 1 more epoch" in out
    assert "epoch 3/3" in err  # the progress counts the parent's epochs, as the Train page does
    assert out.splitlines()[-2].startswith("test accuracy")
    child = model_id(out)
    assert f"(finished, 3 epochs; it continues model {parent})" in out
    card, parent_card = store.load_card(child), store.load_card(parent)
    assert card.parent == parent and [record["epoch"] for record in card.history] == [1, 2, 3]
    assert card.history[:2] == parent_card.history and card.name == parent_card.name + " + 1 epoch"
    assert [owner.key for owner in store.ownership.owners_of(child)] == ["ada"]
    # The page's One more epoch builds the same request: the same key, so it would get this very model.
    assert continuing.continuation(parent, 1).key() == card.request_key
    status, out, _ = run(capsys, "train", "--subset", "small", "--epochs", "3", "--seed", "31")
    assert status == 0
    straight = model_id(out)
    # Two epochs and one more are exactly three at once: the same weights, the same figures.
    for ours, reference in zip(store.load_model(child).get_weights(), store.load_model(straight).get_weights(),
                               strict=True):
        np.testing.assert_array_equal(ours, reference)
    assert card.history == store.load_card(straight).history
    status, out, _ = run(capsys, "continue", parent)  # --epochs defaults to 1: the same model, not trained again
    assert status == 0 and f"Already trained exactly this (model {child})" in out


@pytest.mark.parametrize("arguments, words", [
    (["20000101-000000-abcdef"], "error: The model to continue cannot be read ("),
    (["../../etc"], "error: "),
    (["PARENT", "--epochs", "0"], "error: Epochs must be a whole number from 1 to 200."),
    (["PARENT", "--epochs", "201"], "error: Epochs must be a whole number from 1 to 200."),
])
def test_continue_refuses_bad_input_with_one_line_and_changes_nothing(arguments, words, models_dir, capsys,
                                                                       stored_parent):
    arguments = [stored_parent if argument == "PARENT" else argument for argument in arguments]
    before = sorted(path.name for path in models_dir.iterdir())
    status, out, err = run(capsys, "continue", *arguments)
    assert status == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(words)
    assert sorted(path.name for path in models_dir.iterdir()) == before


def test_continue_refuses_a_model_whose_data_is_missing(models_dir, capsys, stored_parent, tmp_path, monkeypatch):
    import json

    card_path = models_dir / stored_parent / "card.json"
    card = json.loads(card_path.read_text())
    card["subset"] = "full"  # as if trained on the full MNIST, on a machine where it was never fetched
    card_path.write_text(json.dumps(card))
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(tmp_path / "no-data"))
    before = sorted(path.name for path in models_dir.iterdir())
    status, out, err = run(capsys, "continue", stored_parent)
    assert status == 1 and out == ""
    assert err.strip().splitlines() == ["error: MNIST digits, the data this model was trained on, is missing here. "
                                        "Run: python -m mnistlib fetch --dataset mnist"]
    assert sorted(path.name for path in models_dir.iterdir()) == before


def test_continue_refuses_a_model_whose_own_dataset_was_removed(models_dir, capsys, stored_parent):
    import json

    card_path = models_dir / stored_parent / "card.json"
    card = json.loads(card_path.read_text())
    card["dataset"] = "gone_digits"
    card_path.write_text(json.dumps(card))
    status, _, err = run(capsys, "continue", stored_parent)
    assert status == 1
    assert err.strip().splitlines() == ["error: This model was trained on the dataset gone_digits, which is not here "
                                        "any more, so it cannot be continued."]


@pytest.fixture
def stored_parent(models_dir):
    """A one-epoch model stored in this test's own store."""
    from tests.conftest import train_and_store

    return train_and_store("mnist", epochs=1).id
