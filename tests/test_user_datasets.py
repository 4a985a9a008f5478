"""Who added a user dataset, who may remove it, and which stored models were trained on it (not on an earlier
dataset of the same name)."""

import numpy as np
import pytest

from mnistlib import datasets, models, store, user_datasets
from tests.test_dask_own_data import CLASSES, shapes_arrays

ADA, BEN = store.Actor("ada", "Ada"), store.Actor("ben", "Ben")


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch, models_dir):
    folder = tmp_path / "data"
    monkeypatch.setenv("MNISTLIB_DATA_DIR", str(folder))
    return folder


def train_and_store(dataset: str, owner, epochs: int = 1, seed: int = 0) -> store.ModelCard:
    """A real model trained on a user dataset (test probabilities kept after every epoch), stored in owner's list."""
    import keras

    data = datasets.load(dataset)
    spec = models.ModelSpec(hidden_units=16, validation_split=0.1, seed=seed)
    keras.utils.set_random_seed(seed)
    model = models.build(spec, num_classes=len(data.class_names))
    x_test = data.x_test / 255.0
    per_epoch = []

    class TestProbabilities(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            per_epoch.append(self.model.predict(x_test, verbose=0).astype(np.float16))

    fitted = model.fit(data.x_train / 255.0, data.y_train, epochs=epochs, validation_split=spec.validation_split,
                       verbose=0, callbacks=[TestProbabilities()])
    history = [{"epoch": epoch + 1, **{key: float(values[epoch]) for key, values in fitted.history.items()}}
               for epoch in range(epochs)]
    loss, accuracy = model.evaluate(x_test, data.y_test, verbose=0)
    return store.save(model, {"name": f"tiny {seed}", "dataset": dataset, "subset": data.subset,
                              "spec": spec.to_dict(), "epochs_run": epochs, "history": history,
                              "test_loss": float(loss), "test_accuracy": float(accuracy), "training_seconds": 1.0,
                              "test_size": len(data.y_test)}, np.stack(per_epoch), owners=[owner])


def test_who_added_a_dataset_is_recorded():
    entry = datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, added_by=ADA)
    assert (entry.added_by, entry.added_by_key) == ("Ada", "ada")
    assert datasets.add("cli-shapes", shapes_arrays(np.random.default_rng(1)), CLASSES).added_by == ""


def test_the_student_who_added_it_may_remove_it_while_no_model_uses_it():
    datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, added_by=ADA)
    with pytest.raises(store.PermissionDenied, match="Only whoever added this dataset, or the teacher"):
        user_datasets.remove_as("shapes", BEN)
    with pytest.raises(store.PermissionDenied, match="Type your name"):
        user_datasets.remove_as("shapes", None)
    assert "shapes" in datasets.available()
    assert user_datasets.remove_as("shapes", ADA).startswith("Removed the dataset shapes")
    assert "shapes" not in datasets.available()


def test_once_a_model_uses_it_only_the_teacher_removes_it():
    datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, added_by=ADA)
    card = train_and_store("shapes", BEN)
    assert user_datasets.models_using("shapes") == 1
    with pytest.raises(store.PermissionDenied, match="1 stored model was trained on this dataset, so only the teacher"):
        user_datasets.remove_as("shapes", ADA)
    assert "shapes" in datasets.available()
    user_datasets.remove_as("shapes", store.TEACHER)
    assert "shapes" not in datasets.available()
    assert store.load_card(card.id).dataset == "shapes"  # the model stays in the store
    assert not user_datasets.trained_on("shapes", card.created)


def test_a_model_of_an_earlier_dataset_of_the_same_name_is_not_counted():
    datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, added_by=ADA)
    old = train_and_store("shapes", ADA)
    user_datasets.remove_as("shapes", store.TEACHER)
    datasets.add("shapes", shapes_arrays(np.random.default_rng(5)), CLASSES, added_by=ADA)
    assert not user_datasets.trained_on("shapes", old.created)
    assert user_datasets.models_using("shapes") == 0
    new = train_and_store("shapes", ADA)
    assert user_datasets.trained_on("shapes", new.created) and user_datasets.models_using("shapes") == 1
    assert user_datasets.trained_on("mnist", old.created)  # a built-in dataset never goes away


def test_a_damaged_dataset_can_still_be_removed_by_the_teacher(data_dir):
    datasets.add("shapes", shapes_arrays(np.random.default_rng(0)), CLASSES, added_by=ADA)
    (data_dir / "custom" / "shapes" / "dataset.json").write_text("{not json")
    with pytest.raises(store.PermissionDenied, match="Only whoever added this dataset"):
        user_datasets.remove_as("shapes", ADA)
    user_datasets.remove_as("shapes", store.TEACHER)
    assert datasets.custom_names() == []
