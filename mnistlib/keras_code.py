"""Plain Keras source for a ModelSpec: the same network and settings that models.build makes, as code to copy.

The Train page shows it and the exported train.py is made of it; tests/test_keras_code.py runs the code and
compares the model it makes with models.build(spec), so the two cannot drift apart.
"""

from mnistlib.models import CNN_BLOCKS, IMAGE_SHAPE, NUM_CLASSES, ModelSpec, check_num_classes

IMPORTS = "import keras\nfrom keras import layers\n"
# The Keras class behind each optimizer name (models.build asks keras.optimizers.get for the same one).
OPTIMIZER_CLASSES = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}
# Datasets that keras.datasets can download itself.
KERAS_DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}


def _number(value) -> str:
    """A float as the shortest Python literal that reads back as the same value (0.001, 1e-05, 0.25)."""
    return repr(float(value))


def layer_lines(spec: ModelSpec, num_classes: int = NUM_CLASSES, l2: float = 0.0,
                augmentation: list[str] | None = None) -> list[str]:
    """The Sequential model's entries, one Python expression per layer, in models.build's order; with the
    overfitting lab's L2 factor on every kernel, and its augmentation layers (lab_code) on the images first."""
    check_num_classes(num_classes)
    decay = f", kernel_regularizer=keras.regularizers.L2({_number(l2)})" if l2 else ""
    lines = [f"keras.Input(shape={IMAGE_SHAPE!r})"]
    if spec.architecture == "cnn" or augmentation:
        lines.append(f"layers.Reshape(({IMAGE_SHAPE[0]}, {IMAGE_SHAPE[1]}, 1))")
        lines += augmentation or []
    if spec.architecture == "cnn":
        for filters, kernel_size in CNN_BLOCKS:
            lines += [f'layers.Conv2D({filters}, {kernel_size}, activation="relu"{decay})', "layers.MaxPooling2D(2)"]
    lines.append("layers.Flatten()")
    if spec.architecture == "cnn" and spec.dropout:
        lines.append(f"layers.Dropout({_number(spec.dropout)})")
    for _ in range(spec.hidden_layers):
        lines.append(f'layers.Dense({spec.hidden_units}, activation="relu"{decay})')
        if spec.dropout:
            lines.append(f"layers.Dropout({_number(spec.dropout)})")
    lines.append(f'layers.Dense({num_classes}, activation="softmax"{decay})')
    return lines


def model_code(spec: ModelSpec, num_classes: int = NUM_CLASSES, imports: bool = True, l2: float = 0.0,
               augmentation: list[str] | None = None) -> str:
    """`model = keras.Sequential([...])` after seeding, exactly models.build(spec)'s network; with imports first
    (l2, augmentation: the overfitting lab's, see layer_lines)."""
    body = "".join(f"        {line},\n" for line in layer_lines(spec, num_classes, l2, augmentation))
    code = (
        "# The seed fixes the starting weights (and dropout), so a run can be repeated.\n"
        f"keras.utils.set_random_seed({spec.seed})\n"
        f"model = keras.Sequential(\n    [\n{body}    ]\n)\n"
    )
    return (IMPORTS + "\n" + code) if imports else code


def compile_code(spec: ModelSpec) -> str:
    """`model.compile(...)` with the spec's optimizer class and learning rate, the loss and metric of models.build."""
    optimizer = f"keras.optimizers.{OPTIMIZER_CLASSES[spec.optimizer]}(learning_rate={_number(spec.learning_rate)})"
    return (
        "model.compile(\n"
        f"    optimizer={optimizer},\n"
        '    loss="sparse_categorical_crossentropy",\n'
        '    metrics=["accuracy"],\n'
        ")\n"
    )


def fit_code(spec: ModelSpec, epochs: int, validation_data: bool = False, callbacks: str = "") -> str:
    """`model.fit(...)` on images scaled to 0–1, with the spec's batch size and validation split (or, with
    validation_data, on x_val and y_val held back before); callbacks: an argument line (lab_code)."""
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError("Epochs must be a whole number of at least 1.")
    validation = "    validation_data=(x_val / 255.0, y_val),\n" if validation_data else \
        f"    validation_split={_number(spec.validation_split)},\n"
    return (
        "model.fit(\n"
        "    x_train / 255.0,\n"
        "    y_train,\n"
        f"    epochs={epochs},\n"
        f"    batch_size={spec.batch_size},\n"
        f"{validation}{callbacks}"
        ")\n"
    )


def evaluate_code() -> str:
    """`model.evaluate(...)` on the scaled test images, printing the test accuracy."""
    return (
        "test_loss, test_accuracy = model.evaluate(x_test / 255.0, y_test, verbose=0)\n"
        'print(f"test accuracy {test_accuracy:.2%}, test loss {test_loss:.4f}")\n'
    )


def data_code(dataset: str) -> str:
    """Loading dataset's train and test arrays with keras.datasets (MNIST and Fashion-MNIST only)."""
    if dataset not in KERAS_DATASETS:
        raise ValueError(f"keras.datasets has no {dataset!r}; it offers {', '.join(KERAS_DATASETS)}.")
    return f"(x_train, y_train), (x_test, y_test) = keras.datasets.{KERAS_DATASETS[dataset]}.load_data()\n"

