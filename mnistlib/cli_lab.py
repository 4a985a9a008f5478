"""The train command's overfitting-lab options (--train-images, --label-noise, --l2, --augment, --early-stopping);
the request checks their values, so a bad one ends the command with one line and exit status 1 before anything trains."""

from mnistlib.training import lab_data


def add_arguments(train_parser) -> None:
    """Add --train-images N and --label-noise F to the train command's parser."""
    train_parser.add_argument(
        "--train-images", type=int, default=None,
        help=f"learn from a seeded, class-stratified subset of this many training images (at least "
             f"{lab_data.MIN_PER_CLASS} per class; default: all); the validation images stay the same")
    train_parser.add_argument(
        "--label-noise", type=float, default=0.0,
        help=f"replace this fraction of the training labels (0 to {lab_data.MAX_LABEL_NOISE}) by a random other "
             "class, seeded; validation and test labels never change")
    train_parser.add_argument(
        "--l2", type=float, default=0.0,
        help=f"L2 weight decay on every kernel, 0 to {lab_data.MAX_L2} (default: none); the loss is reported "
             "without its penalty, so runs compare")
    train_parser.add_argument(
        "--augment", action="store_true",
        help="randomly shift (±10%%), rotate (±10°) and zoom (±10%%) each training image, seeded; never the "
             "validation or test images")
    train_parser.add_argument(
        "--early-stopping", type=int, default=None, metavar="PATIENCE",
        help="stop after PATIENCE epochs without a lower validation loss and keep the best epoch's weights "
             "(Keras's EarlyStopping(restore_best_weights=True))")


def request_settings(arguments) -> dict:
    """The TrainRequest keyword arguments of those options."""
    return {"train_images": arguments.train_images, "label_noise": arguments.label_noise, "l2": arguments.l2,
            "augment": arguments.augment, "early_stopping": arguments.early_stopping}


def describe(request) -> str:
    """', 500 training images, 30% of their labels wrong' for the lab's settings of a request ('' without them)."""
    parts = []
    if request.train_images is not None:
        parts.append(f"{request.train_images:,} training images at most")
    if request.label_noise:
        parts.append(f"{request.label_noise:.0%} of the training labels replaced by a wrong class")
    if request.l2:
        parts.append(f"L2 weight decay {request.l2:g}")
    if request.augment:
        parts.append("training images randomly shifted, rotated and zoomed")
    if request.early_stopping is not None:
        parts.append(f"early stopping after {request.early_stopping} epochs without a lower validation loss")
    return "".join(f", {part}" for part in parts)
