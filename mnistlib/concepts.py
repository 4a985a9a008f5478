"""Short, correct explanations of the ideas the dashboard shows, one per concept (Markdown)."""

NOTES = {
    "split": (
        "**Training and test sets.** The model learns only from the training images. The test images are "
        "kept apart and used once at the end, to measure how well it does on images it has never seen — "
        "which is what matters for new handwriting or new clothes."
    ),
    "validation": (
        "**Validation split.** A slice of the *training* set (the last part, as Keras does) is held back "
        "during training and checked after each epoch. It shows overfitting while training goes on, "
        "without touching the test set."
    ),
    "scaling": (
        "**Scaling.** Pixels are stored as whole numbers 0–255. Dividing by 255 gives values from 0 to 1, "
        "which keeps the first layer's sums in a range where training works well."
    ),
    "flatten": (
        "**Flatten** lays the 28×28 image out as one row of 784 numbers. It has no weights; it only "
        "reshapes, so the Dense layer after it can connect to every pixel."
    ),
    "dense": (
        "**Dense** (fully connected) layer: each of its units computes a weighted sum of *all* its inputs "
        "plus a bias. 784 inputs × 128 units + 128 biases = 100,480 learned numbers."
    ),
    "relu": (
        "**ReLU** (`max(0, x)`) passes positive values through and sets negative ones to zero — for that "
        "input only. It does not switch a unit off for good: the same unit is active for other images."
    ),
    "softmax": (
        "**Softmax** turns the 10 output scores into probabilities that are all positive and sum to 1 — "
        "the histogram. It does not set the top one to 1; `np.argmax` then picks the most probable class "
        "as the predicted label."
    ),
    "outputs": (
        "**Why 10 output units?** One per class: unit *k* scores class *k*. The label is the unit with the "
        "highest probability."
    ),
    "adam": (
        "**Adam** is an adaptive gradient-descent optimizer: it adjusts each weight's step size from the "
        "recent gradients. It works for many kinds of models, not only images. SGD takes plain steps of "
        "the learning rate; RMSprop scales steps like Adam without its momentum term."
    ),
    "loss": (
        "**Sparse categorical cross-entropy** is the loss for integer labels 0–9: for each image it is "
        "−log(probability given to the true class). A confident right answer costs almost 0; a confident "
        "wrong one costs a lot. (This app's model ends in softmax, so the loss reads probabilities "
        "directly — the same maths as `from_logits=True` on a model without softmax.)"
    ),
    "epochs": (
        "**Epoch**: one pass over all training images, in batches. After each batch the weights take one "
        "optimizer step; with 60,000 images and batch size 32 that is 1,875 steps per epoch."
    ),
    "overfitting": (
        "**Overfitting**: the model has started memorising the training images instead of learning what "
        "generalises. Training accuracy keeps rising while validation/test accuracy stalls or falls. "
        "Remedies: fewer epochs, dropout, more data."
    ),
    "dropout": (
        "**Dropout** randomly zeroes a fraction of a layer's outputs during training only, so units cannot "
        "rely on each other too much; it is switched off when predicting."
    ),
    "cnn": (
        "**Convolutional network (CNN)**: small 3×3 filters slide over the image and respond to strokes and "
        "edges wherever they are; pooling halves the size. It uses the image's 2-D layout, which a Dense "
        "network ignores, and usually reaches higher accuracy."
    ),
    "confusion": (
        "**Confusion matrix**: row = true class, column = predicted class. The diagonal counts right "
        "answers; every other cell counts one kind of mistake."
    ),
}


def note(name: str) -> str:
    """The note for a concept; ValueError naming the known ones otherwise."""
    if name not in NOTES:
        raise ValueError(f"No note on {name!r}; known: {', '.join(NOTES)}.")
    return NOTES[name]
