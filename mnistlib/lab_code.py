"""Plain numpy and Keras source for the overfitting lab's settings, as the exported train.py runs them.

The subset and the noisy labels are MNIST Lab's own functions (training/lab_data.py), copied into the script as
source, so the script picks the same images and the same wrong labels from the same seed without importing
mnistlib; tests/test_export_lab.py runs the script and compares it with the app.
"""

import inspect

from mnistlib.training import lab_data

# The engine's augmentation (training/augment.py, the same ranges; not imported, it needs TensorFlow): shifts up
# to 10% of the image, rotations up to 10°, zooms up to 10%, black outside the image, on the training images only.
# Keras's random layers are active in fit() only, never in evaluate() or predict().
SHIFT, ROTATION_DEGREES, ZOOM = 0.1, 10, 0.1


def lab_of(card) -> dict:
    """The lab's settings a model card records (store.ModelCard: train_images and label_noise, and its lab section):
    train_images (None: all), label_noise, l2, augment, early_stopping (None: off)."""
    lab = card.lab or {}
    return {"train_images": card.train_images, "label_noise": float(card.label_noise or 0.0),
            "l2": float(lab.get("l2", 0.0)), "augment": bool(lab.get("augment", False)),
            "early_stopping": lab.get("early_stopping")}


def split_code(validation_split: float) -> str:
    """Holding back the last fraction of the training images for validation, exactly as Keras's validation_split."""
    return (
        f"# The last {validation_split:.0%} of the training images are held back for validation, as Keras's\n"
        "# validation_split does: they stay the same whatever the settings below, so runs compare.\n"
        f"split_at = int(len(x_train) * (1 - {validation_split!r}))\n"
        "x_train, x_val = x_train[:split_at], x_train[split_at:]\n"
        "y_train, y_val = y_train[:split_at], y_train[split_at:]\n"
    )


def data_code(train_images: int | None, label_noise: float, seed: int, num_classes: int) -> str:
    """The stratified subset and the noisy labels of MNIST Lab's training_part, as plain numpy ("" for neither)."""
    if train_images is None and not label_noise:
        return ""
    code = [f"SUBSET_STREAM, NOISE_STREAM = {lab_data.SUBSET_STREAM}, {lab_data.NOISE_STREAM}\n"]
    if train_images is not None:
        code += ["\n\n", inspect.getsource(lab_data.stratified_indices), "\n\n",
                 f"# A seeded subset of {train_images:,} training images, each class keeping its share.\n",
                 f"if {train_images} < len(y_train):\n",
                 f"    chosen = stratified_indices(y_train, {train_images}, seed={seed})\n",
                 "    x_train, y_train = x_train[chosen], y_train[chosen]\n"]
    if label_noise:
        code += ["\n\n", inspect.getsource(lab_data.noisy_labels), "\n\n",
                 f"# {label_noise:.0%} of the training labels replaced by a random other class (validation and test "
                 "labels never).\n",
                 f"y_train, relabelled = noisy_labels(y_train, {label_noise!r}, {num_classes}, seed={seed})\n",
                 'print(f"{len(relabelled)} of the {len(y_train)} training labels replaced by a wrong class")\n']
    return "".join(code)


def augmentation_lines() -> list[str]:
    """Keras's random layers on (28, 28, 1) images: active in fit() only, so validation and test see the images
    as they are."""
    return [f'layers.RandomTranslation({SHIFT!r}, {SHIFT!r}, fill_mode="constant")',
            f'layers.RandomRotation({ROTATION_DEGREES} / 360, fill_mode="constant")',
            f'layers.RandomZoom({ZOOM!r}, fill_mode="constant")']


def early_stopping_code(patience: int) -> str:
    """The callbacks argument of model.fit for early stopping on the validation loss."""
    return (f'    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience={patience}, '
            "restore_best_weights=True)],\n")


def validation_code(early_stopping: int | None) -> str:
    """Printing the validation accuracy (and, with early stopping, where it stopped and which epoch it kept)."""
    code = ""
    if early_stopping:
        code += (
            'epochs_run = len(history.history["val_loss"])\n'
            'best_epoch = 1 + int(np.argmin(history.history["val_loss"]))\n'
            'print(f"early stopping: stopped after epoch {epochs_run}, kept the weights of epoch {best_epoch}")\n'
        )
    return code + (
        "val_loss, val_accuracy = model.evaluate(x_val / 255.0, y_val, verbose=0)\n"
        'print(f"validation accuracy {val_accuracy:.2%}, validation loss {val_loss:.4f}")\n'
    )


def describe(lab: dict) -> str:
    """The lab's settings in a few words, e.g. "500 images, 30% noise, L2 0.01, augmented, early stop 5" ("—" for
    none); lab as lab_of gives it (missing keys: the defaults)."""
    parts = []
    if lab.get("train_images") is not None:
        parts.append(f"{lab['train_images']:,} images")
    if lab.get("label_noise"):
        parts.append(f"{lab['label_noise']:.0%} noise")
    if lab.get("l2"):
        parts.append(f"L2 {lab['l2']:g}")
    if lab.get("augment"):
        parts.append("augmented")
    if lab.get("early_stopping"):
        parts.append(f"early stop {lab['early_stopping']}")
    return ", ".join(parts) or "—"
