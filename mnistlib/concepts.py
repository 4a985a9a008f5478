"""Short, correct explanations of the ideas the dashboard shows (Markdown), and the ones that need live numbers."""

import math

from mnistlib.training.steps import keras_fit_steps, split_sizes

# The TensorFlow tutorial trains on all 60,000 training images, without a validation split, in Keras's
# default batches of 32; its progress bar therefore counts ceil(60000 / 32) steps per epoch.
TUTORIAL_TRAINING_IMAGES = 60000
TUTORIAL_BATCH_SIZE = 32

NOTES = {
    "split": (
        "**Training and test sets.** The model's weights are adjusted on the training images only. The test "
        "images are never used to adjust them, so the model's accuracy on them tells how well it does on images "
        "it has never learned from — which is what matters for new handwriting or new clothes. This app also "
        "measures the test set after every epoch, so you can watch learning happen; do not choose settings "
        "(epochs, units, learning rate…) by those test figures, or the test set stops being a fair final check: "
        "choose by the validation figures."
    ),
    "train_images": (
        "**Training images.** The network learns from a seeded subset of this many training images, each class "
        "keeping its share (0: all of them), while the validation images stay the same held-out ones, so with few "
        "images you can watch it memorise them: training accuracy near 100%, validation accuracy far below."
    ),
    "label_noise": (
        "**Label noise.** This fraction of the training labels is replaced, seeded, by a random wrong class "
        "(validation and test labels never), so a network that fits its training labels perfectly has learned the "
        "mistakes too and its validation accuracy falls."
    ),
    "l2": (
        "**L2 weight decay.** Training minimises the loss plus L2 × the sum of the squared weights of every "
        "kernel (each Dense and Conv2D layer's weights, not their biases), so large weights cost more and the "
        "network is pushed towards smaller ones. The curves show the loss without that penalty, so runs with and "
        "without it compare; the model's card also keeps it with the penalty (`loss_with_penalty`)."
    ),
    "augment": (
        "**Augmentation.** Every time a training image is used, it is randomly shifted (up to 10% of its height "
        "and width each way), rotated (up to 10°) and zoomed in or out (a scale from 0.9 to 1.1), so the network "
        "rarely sees the same picture twice and memorises less. Validation and test images are never changed. The "
        "draws are seeded: the same settings train the same model."
    ),
    "early_stopping": (
        "**Early stopping.** After each epoch the validation loss is compared with the lowest so far; after this "
        "many epochs in a row without a lower one, training stops. Stopped or not, the weights of the epoch with "
        "the lowest validation loss are the ones kept, as Keras's `EarlyStopping(monitor=\"val_loss\", "
        "patience=…, restore_best_weights=True)` does (0: off)."
    ),
    "validation": (
        "**Validation split.** A slice of the *training* set (its last part, as Keras does) is held back: the "
        "weights never learn from it, and it is measured after each epoch. MNIST's and Fashion-MNIST's training "
        "images come in a mixed order, and the class's own datasets are stored shuffled (every class spread "
        "evenly), so that last part holds every class in about its share. Choose settings by "
        "the validation figures and keep the test set for the final check."
    ),
    "scaling": (
        "**Why divide by 255?** Pixels are stored as whole numbers 0–255. The model is trained on the pixels "
        "divided by 255 (0 to 1), which keeps the first layer's sums small, where training works well with the "
        "usual learning rates. A model trained this way must be given `x / 255.0` when predicting too: raw 0–255 "
        "values give it different, wrong probabilities."
    ),
    "flatten": (
        "**Flatten** lays its input out as one row of numbers — a 28×28 image becomes 784. It has no weights; it "
        "only reshapes, so the Dense layer after it can connect to every value."
    ),
    "dense": (
        "**Dense** (fully connected) layer: each of its units computes a weighted sum of *all* its inputs plus a "
        "bias. In the default network's hidden layer that is 784 inputs × 128 units + 128 biases = 100,480 "
        "learned numbers."
    ),
    "units": (
        "**Units and layers.** Each unit of a hidden Dense layer is one weighted sum followed by ReLU, so more "
        "units can learn more patterns; more layers build patterns out of patterns. Both add parameters: more to "
        "learn, slower training, and more room to overfit."
    ),
    "relu": (
        "**ReLU** (`max(0, x)`) keeps a positive sum and turns a negative one into 0. Why: without a non-linear "
        "step between them, stacked Dense layers collapse into one linear map (a weighted sum of weighted sums is "
        "still a weighted sum), however many you stack. A unit is set to 0 for each image whose sum is "
        "negative, and only for that image: it is zeroed image by image, not switched off for good."
    ),
    "softmax": (
        "**Softmax** turns the output scores, one per class, into a probability distribution: all positive, "
        "summing to 1 — the histogram. The largest score stays the largest probability; softmax does not set it "
        "to 1. `np.argmax` then picks the most probable class as the predicted label."
    ),
    "outputs": (
        "**Why one output unit per class?** Unit *k* scores class *k*, so a dataset with 10 classes needs 10 "
        "output units. The loss for an image of label *k* is −log of unit *k*'s probability (sparse "
        "cross-entropy picks that unit by the label), and the predicted label is the unit with the highest "
        "probability."
    ),
    "optimizer": (
        "**Optimizer**: how the weights move after each batch, given the gradient of the loss. **SGD** moves each "
        "weight by the learning rate × its gradient, downhill. **Adam** adapts a step for each weight from "
        "running averages of its recent gradients and of their squares, so it needs less tuning; it is a "
        "general-purpose optimizer, used for text, sound and tables as well as images. **RMSprop** divides "
        "each weight's step by the square root of a running average of its recent squared gradients, like Adam "
        "without the running average of the gradients themselves."
    ),
    "loss": (
        "**Sparse categorical cross-entropy** is the loss for labels given as class numbers (0, 1, 2, …): for "
        "each image it is −log(probability the model gives to the true class). A confident right answer costs "
        "almost 0; a confident wrong one costs a lot. Guessing equally among K classes costs −log(1/K) = ln K: ln 10 ≈ 2.30 "
        "for 10 classes. Here the model's last layer is a softmax, so the loss reads its probabilities."
    ),
    "batch": (
        "**Batch size**: how many images the model sees before each optimizer step; the step follows the "
        "gradient averaged over those images. Larger batches: fewer, smoother steps per epoch; smaller: more, "
        "noisier ones."
    ),
    "epochs": (
        "**Epoch**: one pass over the training images (those not held back for validation), in shuffled batches; "
        "after each batch the weights take one optimizer step."
    ),
    "overfitting": (
        "**Overfitting**: the model starts fitting the details of its training images instead of what "
        "generalises. Judge it on the curves: training loss keeps falling while validation loss stops falling or "
        "rises (validation accuracy stalls or drops). Remedies: fewer epochs, dropout, more data."
    ),
    "training_figures": (
        "The **train** figure of an epoch is the average over that epoch's batches, each measured while the "
        "weights were still changing (and with dropout on, if any). **Validation** is measured once, after the "
        "epoch, with the epoch's final weights and dropout off. So the two are not measured the same way: early "
        "on, validation can even be better than training."
    ),
    "dropout": (
        "**Dropout** randomly zeroes a fraction of a layer's outputs during training only, so units cannot rely "
        "on each other too much; it is switched off when predicting and when measuring validation and test."
    ),
    "cnn": (
        "**Convolutional network (CNN)**: small 3×3 filters slide over the image and respond to strokes and edges "
        "wherever they are; 2×2 max pooling halves the height and width. It uses the image's 2-D layout, which a "
        "Dense network ignores, and usually reaches higher accuracy."
    ),
    "confusion": (
        "**Confusion matrix**: row = true class, column = predicted class. The diagonal counts right answers; "
        "every other cell counts one kind of mistake."
    ),
    "confidence": (
        "**Confidence is not certainty.** The model must answer with one of the classes it was trained on, even "
        "for a scribble, a letter or an empty-looking image: its probabilities always sum to 1. A high "
        "confidence only says which of its classes it finds most likely, not that the answer is right."
    ),
}

# The TensorFlow tutorial's other form of the same output layer and loss, said next to the compile code.
def from_logits_note(num_classes: int) -> str:
    """FROM_LOGITS for a dataset of num_classes classes (the tutorial's own MNIST has 10)."""
    return FROM_LOGITS.replace("`layers.Dense(N)`", f"`layers.Dense({num_classes})`")


FROM_LOGITS = ("**The tutorial's form.** The current TensorFlow tutorial ends with a last Dense layer without "
               "softmax — here `layers.Dense(N)` (scores, called logits) — and compiles with `keras.losses.SparseCategoricalCrossentropy(from_logits=True)`, "
               "then adds a `layers.Softmax()` for probabilities. It is the same model function as the softmax "
               "layer and loss here, but the loss is computed from the scores directly, which is numerically "
               "safer; trained, the two give close but not identical numbers.")

# The numbers a page's code comments show are read from the stored probabilities, not recomputed.
STORED_VALUES = ("The numbers in the comments are rounded: the page keeps the probabilities as 16-bit floats, so "
                 "`model.predict` gives values within about ±0.001 of them, and images whose losses nearly tie may "
                 "come out in another order.")


SNIPPET_PRELUDE = (
    "import keras\n"
    "import numpy as np\n"
    "\n"
    "# In the folder unzipped from Predict's \"Train it yourself (.zip)\": this model and the images it was tested on\n"
    "model = keras.saving.load_model(\"model.keras\")\n"
    "with np.load(\"data.npz\") as data:\n"
    "    x_test, y_test = data[\"x_test\"], data[\"y_test\"]\n"
    "\n")
"""The first lines of the Predict and Mistakes code: paste-and-run in a fresh notebook beside the project's files."""


def test_set_as_loaded(size: int, keras_name: str | None, full_size: int) -> str:
    """What `x_test`, `y_test` are in a page's code: this page's test set, and what Keras's load_data() gives."""
    text = f"`x_test` and `y_test` are the test set as loaded (pixels 0–255): {size:,} images here"
    if keras_name and size != full_size:
        text += (f"; in practice mode this page uses the small test set, while `keras.datasets.{keras_name}"
                 f".load_data()` gives all {full_size:,}, so its indices and numbers differ")
    return text + "."


# One sentence for every page that meets a stored model whose files cannot be read.
DAMAGED_MODEL = "This saved model is damaged: pick another one above, or train a new one on the Train page."


def note(name: str) -> str:
    """The note for a concept; ValueError naming the known ones otherwise."""
    if name not in NOTES:
        raise ValueError(f"No note on {name!r}; known: {', '.join(NOTES)}.")
    return NOTES[name]


## The numbers of one training: the same split and batching as the app's training loop


def lab_note(training_images: int, validation_split: float, train_images: int | None, label_noise: float,
             batch_size: int) -> str:
    """What the overfitting lab's settings change here: the images learned from, the same validation images, the
    steps per epoch and how many training labels are wrong (as training/lab_data.py picks them)."""
    available, held_back = split_sizes(training_images, validation_split)
    learned_from = available if train_images is None else min(train_images, available)
    text = (f"**The lab's settings**: the weights learn from {learned_from:,} of the {available:,} training images "
            f"(each class keeping its share), {learned_from // batch_size:,} full batches per epoch; the "
            f"{held_back:,} validation images are the same whatever this number is")
    if label_noise:
        text += (f"; {round(label_noise * learned_from):,} of those {learned_from:,} training labels are replaced by a "
                 "wrong class (validation and test labels never)")
    return text + "."


def count(number: int, word: str, plural: str | None = None) -> str:
    """'1 step', '1,687 steps': a number with its word in the right number."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"


def guessing_loss(num_classes: int) -> float:
    """The loss of a model that gives every class the same probability: ln(num_classes)."""
    return math.log(num_classes)


def steps_note(training_images: int, validation_split: float, batch_size: int) -> str:
    """How many optimizer steps one epoch takes here and why the TensorFlow tutorial shows another number."""
    learned_from, held_back = split_sizes(training_images, validation_split)
    steps = learned_from // batch_size
    left_out = learned_from - steps * batch_size
    tutorial_steps = math.ceil(TUTORIAL_TRAINING_IMAGES / TUTORIAL_BATCH_SIZE)
    kept = (f"{training_images:,} training images, {held_back:,} held back for validation, leaves {learned_from:,}"
            if held_back else f"no validation split: all {learned_from:,} training images")
    quotient = f"{learned_from / batch_size:,.3f}".rstrip("0").rstrip(".")
    equals = "=" if (learned_from * 1000) % batch_size == 0 else "≈"
    text = (f"**{count(steps, 'step')} per epoch here**: {kept}; {learned_from:,} / {batch_size} {equals} "
            f"{quotient}, so {count(steps, 'full batch', 'full batches')}")
    if left_out:
        text += (f" — the last {count(left_out, 'image')} of each epoch's shuffled order "
                 f"{'is' if left_out == 1 else 'are'} left out (different ones every epoch), and Keras's own "
                 f"`model.fit` would run {count(keras_fit_steps(training_images, validation_split, batch_size), 'step')}"
                 ", the last one smaller")
    return text + (f". The TensorFlow tutorial shows {tutorial_steps:,}: it fits all {TUTORIAL_TRAINING_IMAGES:,} "
                   f"training images, with no validation split, in batches of {TUTORIAL_BATCH_SIZE}.")


def learning_rate_note(num_classes: int) -> str:
    """What the learning rate does, and what too high looks like for this number of classes."""
    return ("**Learning rate**: how far each optimizer step moves the weights. Too low: learning is slow. Too "
            f"high: the loss stays stuck near {guessing_loss(num_classes):.2f} (= ln {num_classes}, guessing among "
            f"{num_classes} classes), jumps about, or becomes NaN (not a number) when the weights blow up.")


def loss_value_note(num_classes: int) -> str:
    """What a loss number means, for this number of classes."""
    return (f"The loss is the average of −log(probability given to the true class). {guessing_loss(num_classes):.2f}"
            f" (= ln {num_classes}) is what guessing equally among {num_classes} classes gives; 0 would be "
            "certain and right on every image.")


## What compile() and fit() do, and what the curves say, on the live numbers

OPTIMIZER_STEPS = {
    "sgd": "SGD subtracts learning rate × gradient from each parameter",
    "adam": ("Adam moves each parameter by a step it adapts from running averages of that parameter's recent "
             "gradients and squared gradients, scaled by the learning rate"),
    "rmsprop": ("RMSprop moves each parameter by learning rate × gradient, divided by the square root of a "
                "running average of its recent squared gradients"),
}


def compile_fit_note(spec, num_classes: int, parameters: int, training_images: int, epochs: int) -> str:
    """How compile() and fit() turn the optimizer and the loss into the model's parameters, on this spec's numbers."""
    learned_from, held_back = split_sizes(training_images, spec.validation_split)
    steps = learned_from // spec.batch_size
    dropout = f" (with dropout {spec.dropout:g} on)" if spec.dropout else ""
    fit_steps = keras_fit_steps(training_images, spec.validation_split, spec.batch_size)
    fit_steps_clause = ("" if fit_steps == steps else f"; Keras's `model.fit(...)` keeps the last, smaller batch "
                        f"and runs {fit_steps:,} per epoch")
    validation = (f"After each epoch, `fit()` measures the loss and accuracy on the {held_back:,} validation images, "
                  "with dropout off." if held_back else "With no validation split, nothing is measured on held-back "
                  "images after each epoch.")
    return (
        f"`model.compile(...)` only records the optimizer ({spec.optimizer}, learning rate {spec.learning_rate:g}), "
        f"the loss and the metric: nothing is learned yet, and the {parameters:,} parameters keep the values they "
        "started with: the weights random (chosen by the seed), the biases 0.\n\n"
        f"Training then repeats, batch by batch — this app's loop runs {count(steps, 'full batch', 'full batches')} "
        f"of {spec.batch_size} images per epoch, {steps * epochs:,} in {count(epochs, 'epoch')}"
        f"{fit_steps_clause}:\n"
        f"1. **predict**: the model computes the probabilities of the batch's images{dropout};\n"
        "2. **loss**: sparse categorical cross-entropy, −log(probability given to the true class), averaged over "
        f"the batch ({guessing_loss(num_classes):.2f} = ln {num_classes} for a model that gives every class the same "
        "probability);\n"
        f"3. **gradient**: for each of the {parameters:,} parameters, how fast the loss changes when that parameter "
        "changes a little (computed by backpropagation);\n"
        f"4. **step**: {OPTIMIZER_STEPS[spec.optimizer]} ({spec.learning_rate:g}), so that the loss goes down.\n\n"
        + validation
    )
