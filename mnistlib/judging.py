"""Judging models against a challenge: one verdict per model (met / not met / over a limit, saying which), a plan
checked before training, and the class's ranking — by validation accuracy, and by test accuracy at the reveal.

    results = judging.class_results("mnist")             # one row per student's model, from the store's index
    verdict = judging.judge(challenge, results[0])        # Verdict("over a limit", ("150,000 parameters > ...",))
    judging.ranking(challenge, results)                   # one best model per student, best first
    judging.check_plan(challenge, spec, epochs, training_set_size)   # before training: the reasons it would fail
"""

import dataclasses
import functools
import math

from mnistlib import datasets, models
from mnistlib.store import index
from mnistlib.store.ownership import TEACHER_KEY

MET, NOT_MET, OVER = "met", "not met", "over a limit"


@dataclasses.dataclass(frozen=True)
class ModelResult:
    """One student's model as the class's results list it (a model shared by two students is two results)."""

    student_key: str
    student: str
    model_id: str
    model_name: str  # as this student named it
    dataset: str
    subset: str
    settings: str
    parameters: int
    epochs: int
    training_images: int | None  # the images it learned from (after the validation split); None if unknown
    training_seconds: float
    validation_accuracy: float | None
    test_accuracy: float
    created: str


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How a model stands against a challenge: status MET, NOT_MET or OVER, and the reasons it is not met."""

    status: str
    reasons: tuple[str, ...] = ()

    @property
    def met(self) -> bool:
        return self.status == MET

    def sentence(self) -> str:
        return "Meets the challenge." if self.met else f"{self.status.capitalize()}: {'; '.join(self.reasons)}."


@functools.lru_cache(maxsize=32)
def training_set_size(dataset: str, subset: str) -> int | None:
    """How many training images (before the validation split) a dataset's subset has; None if it cannot be read."""
    if dataset in datasets.REGISTRY and subset == "full":
        return datasets.FULL_SHAPES["x_train"][0]
    try:
        return int(datasets.load(dataset, subset=subset).x_train.shape[0])
    except (ValueError, LookupError, RuntimeError, OSError):
        return None


def images_learned_from(total: int | None, validation_split: float, train_images: int | None = None) -> int | None:
    """The training images a model learns from: the training set less the validation part Keras holds back,
    floor(n * (1 - validation_split)); with the lab's train_images setting (a subset of what is left after that
    split, training/lab_data.py), that many, at most all of them."""
    if total is None:
        return train_images
    remaining = int(math.floor(total * (1 - validation_split)))
    return remaining if train_images is None else min(remaining, train_images)


def _limit_reasons(challenge, parameters, epochs, images, seconds) -> list[str]:
    reasons = []
    if challenge.max_parameters is not None and parameters > challenge.max_parameters:
        reasons.append(f"{parameters:,} parameters, over the limit of {challenge.max_parameters:,}")
    if challenge.max_epochs is not None and epochs > challenge.max_epochs:
        reasons.append(f"{epochs} epochs, over the limit of {challenge.max_epochs}")
    if challenge.max_train_images is not None:
        if images is None:
            reasons.append("its number of training images cannot be read")
        elif images > challenge.max_train_images:
            reasons.append(f"{images:,} training images, over the limit of {challenge.max_train_images:,}")
    if challenge.max_seconds is not None and seconds is not None and seconds > challenge.max_seconds:
        reasons.append(f"{seconds:.1f} seconds of training, over the limit of {challenge.max_seconds:g}")
    return reasons


def judge(challenge, result: ModelResult) -> Verdict:
    """A model against a challenge (when it was trained does not matter, except after the challenge closed)."""
    if result.dataset != challenge.dataset:
        return Verdict(NOT_MET, (f"trained on {result.dataset}, not {challenge.dataset}",))
    over = _limit_reasons(challenge, result.parameters, result.epochs, result.training_images,
                          result.training_seconds)
    if challenge.deadline() is not None and result.created > challenge.deadline():
        over.append("trained after the challenge closed")
    short = []
    if result.validation_accuracy is None:
        short.append("trained without a validation split, so it has no validation accuracy")
    elif result.validation_accuracy < challenge.min_validation_accuracy:
        short.append(f"validation accuracy {result.validation_accuracy:.2%}, below the target "
                     f"{challenge.min_validation_accuracy:.2%}")
    if over:
        return Verdict(OVER, tuple(over + short))
    return Verdict(NOT_MET, tuple(short)) if short else Verdict(MET)


def check_plan(challenge, spec: models.ModelSpec, epochs: int, total_images: int | None, num_classes: int = 10,
               train_images: int | None = None) -> list[str]:
    """Before training: the reasons these settings would break the challenge's limits ([] when within them).
    Seconds of training can only be judged afterwards."""
    parameters = models.count_parameters(spec, num_classes)
    images = images_learned_from(total_images, spec.validation_split, train_images)
    reasons = _limit_reasons(challenge, parameters, epochs, images, None)
    if spec.validation_split == 0:
        reasons.append("no validation split, so it would have no validation accuracy to judge")
    return reasons


def class_results(dataset: str | None = None) -> list[ModelResult]:
    """Every student's model (one row per owner and model), by student then oldest first; from the index."""
    in_dataset = "WHERE m.dataset = ?" if dataset is not None else ""

    def work(connection):
        return connection.execute(
            "SELECT o.key, o.display, o.name, m.id, m.dataset, m.subset, m.settings, m.parameters, m.epochs_run, "
            "json_extract(m.card, '$.spec.validation_split'), json_extract(m.card, '$.train_images'), "
            "m.training_seconds, m.val_accuracy, m.test_accuracy, m.created FROM owners o "
            f"JOIN models m ON m.id = o.model_id {in_dataset} ORDER BY o.display COLLATE NOCASE, o.key, m.created, m.id",
            (dataset,) if dataset is not None else ()).fetchall()

    results = []
    for (key, display, name, model_id, model_dataset, subset, settings, parameters, epochs, split, train_images,
         seconds, validation, test, created) in index.run(work):
        split = models.ModelSpec().validation_split if split is None else split
        images = images_learned_from(training_set_size(model_dataset, subset), split, train_images)
        results.append(ModelResult(key, display, model_id, name, model_dataset, subset, settings, parameters, epochs,
                                   images, seconds, validation, test, created))
    return results


def ranking(challenge, results: list[ModelResult]) -> list[tuple[ModelResult, Verdict]]:
    """One best model per student among those meeting the challenge (highest validation accuracy, the earlier on a
    tie), best first. The teacher's own models are not ranked."""
    best = {}
    for result in results:
        if result.student_key == TEACHER_KEY:
            continue
        verdict = judge(challenge, result)
        if not verdict.met:
            continue
        kept = best.get(result.student_key)
        if kept is None or (result.validation_accuracy, kept[0].created) > (kept[0].validation_accuracy,
                                                                             result.created):
            best[result.student_key] = (result, verdict)
    return sorted(best.values(), key=lambda pair: (-pair[0].validation_accuracy, pair[0].created))


def by_test(ranked: list[tuple[ModelResult, Verdict]]) -> list[tuple[ModelResult, Verdict]]:
    """The same chosen models (each student's, picked by validation), ranked by test accuracy: the final result."""
    return sorted(ranked, key=lambda pair: (-pair[0].test_accuracy, -pair[0].validation_accuracy, pair[0].created))


def why_orders_differ(ranked, final) -> str:
    """One sentence on how the validation order and the test order compare, counted from the two rankings."""
    if len(ranked) < 2:
        return "With fewer than two ranked students there is no order to compare yet."
    moved = sum(first[0].student_key != second[0].student_key for first, second in zip(ranked, final, strict=True))
    if moved == 0:
        return ("Both orders agree: every chosen model kept its place on the test images, which none of them saw "
                "while being trained or chosen.")
    return (f"{moved} of {len(ranked)} places changed because each model was chosen by its validation accuracy, while "
            "the test images were never used to train or choose it: close scores on one set of images can swap "
            "on new ones.")
