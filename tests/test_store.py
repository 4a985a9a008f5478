"""The model store: round trip, listing, hostile ids, damaged files."""

import json

import numpy as np
import pytest

from mnistlib import store


@pytest.fixture(scope="module")
def small_model():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(4, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def card_fields(name="test model", dataset="mnist"):
    return {"name": name, "dataset": dataset, "subset": "small", "spec": {"architecture": "dense"}, "epochs_run": 2,
            "history": [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": None, "val_accuracy": None}],
            "test_loss": 0.9, "test_accuracy": 0.6, "training_seconds": 1.5, "test_size": 3}


def probabilities(epochs=2, size=3):
    return np.full((epochs, size, 10), 0.1, np.float16)


def test_round_trip_gives_identical_predictions(models_dir, small_model, rng):
    card = store.save(small_model, card_fields(), probabilities())
    assert (models_dir / card.id / "model.keras").is_file()
    loaded = store.load_model(card.id)
    images = rng.random((5, 28, 28)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), small_model.predict(images, verbose=0))
    assert store.load_card(card.id) == card
    saved = store.load_probabilities(card.id)
    assert saved.shape == (2, 3, 10) and saved.dtype == np.float32
    np.testing.assert_allclose(saved.sum(axis=2), 1.0, rtol=1e-6)


def test_list_is_newest_first_and_filters_by_dataset(models_dir, small_model):
    first = store.save(small_model, card_fields("first"), probabilities())
    second = store.save(small_model, card_fields("second", dataset="fashion_mnist"), probabilities())
    listed = store.list_models()
    assert [card.id for card in listed] == sorted([first.id, second.id], reverse=True)
    assert [card.name for card in store.list_models(dataset="fashion_mnist")] == ["second"]
    assert second.label() == "second · 2 epochs · test 60.0%"  # no validation figures in this card


@pytest.mark.parametrize("hostile", ["../x", "/etc/passwd", "", None, "..", "20261124-201500-3fa9c2/../../x",
                                     "20261124-201500-3FA9C2", "２０２６1124-201500-3fa9c2", "a" * 500, 12])
def test_hostile_ids_are_refused(models_dir, hostile):
    with pytest.raises(ValueError, match="is not a model id"):
        store.load_card(hostile)
    with pytest.raises(ValueError):
        store.delete(hostile)


def test_unknown_id_is_not_found(models_dir):
    with pytest.raises(store.ModelNotFoundError):
        store.load_card("20200101-000000-abcdef")


def model_folders(models_dir):
    """The store's model folders and leftovers of saving (its index and lock files are not models)."""
    return [path.name for path in models_dir.iterdir() if path.is_dir()]


def test_names_are_cleaned_or_refused(models_dir, small_model):
    with pytest.raises(ValueError, match="cannot be empty"):
        store.save(small_model, card_fields(name="  \u200f "), probabilities())
    with pytest.raises(ValueError, match="at most 80 characters"):
        store.save(small_model, card_fields(name="x" * 10_000), probabilities())
    assert model_folders(models_dir) == []
    card = store.save(small_model, card_fields(name="bad\nname\u202e <script>**x**"), probabilities())
    assert card.name == "bad name <script>**x**"


def test_a_damaged_model_file_gives_a_clear_error(models_dir, small_model):
    card = store.save(small_model, card_fields(), probabilities())
    (models_dir / card.id / "model.keras").write_bytes(b"not a keras file")
    with pytest.raises(store.CorruptModelError, match=f"Model {card.id} cannot be loaded: model.keras is damaged"):
        store.load_model(card.id)


def test_a_damaged_card_is_listed_as_broken_and_the_rest_still_list(models_dir, small_model):
    good = store.save(small_model, card_fields("good"), probabilities())
    bad = store.save(small_model, card_fields("bad"), probabilities())
    (models_dir / bad.id / "card.json").write_text("{ truncated")
    with pytest.raises(store.CorruptModelError):  # opening it finds the damage, and the listing shows it
        store.load_card(bad.id)
    listed = store.list_models()
    assert [entry.id for entry in listed if isinstance(entry, store.ModelCard)] == [good.id]
    broken = [entry for entry in listed if isinstance(entry, store.BrokenModel)]
    assert broken[0].id == bad.id and "card.json is damaged" in broken[0].message
    with pytest.raises(store.CorruptModelError):
        store.load_card(bad.id)


def test_owners_rename_and_delete_only_their_own(models_dir, small_model):
    ada, bob = store.Actor("ada", "Ada"), store.Actor("bob", "Bob")
    card = store.save(small_model, card_fields(), probabilities(), owners=[ada])
    assert store.ownership.rename(card.id, ada, "  my model ") == "my model"
    assert json.loads((models_dir / card.id / "owners.json").read_text())[0]["name"] == "my model"
    for action in (lambda: store.ownership.rename(card.id, bob, "mine now"), lambda: store.ownership.remove(card.id, bob)):
        with pytest.raises(store.PermissionDenied, match="not yours"):
            action()
    assert [owner.name for owner in store.ownership.owners_of(card.id)] == ["my model"]
    store.ownership.remove(card.id, ada)
    assert store.list_models() == [] and model_folders(models_dir) == []


def test_a_failed_save_leaves_nothing_behind(models_dir):
    class Unsaveable:
        def save(self, path):
            raise OSError("disk full")

    with pytest.raises(OSError):
        store.save(Unsaveable(), card_fields(), probabilities())
    assert model_folders(models_dir) == []
