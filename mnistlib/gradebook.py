"""The class's results as a gradebook: one CSV row per student's model, with stable named columns (README lists
them), judged against the active challenge of its dataset; test accuracy only once the teacher revealed it.

    text = gradebook.csv_text(dataset=None, test_revealed=students.test_revealed())
"""

import csv
import io

from mnistlib import challenges, judging

COLUMNS = ("student", "model_id", "model_name", "dataset", "subset", "settings", "parameters", "epochs",
           "training_images", "training_seconds", "validation_accuracy", "challenge", "met_challenge", "why_not",
           "test_accuracy")


def rows(dataset: str | None = None, test_revealed: bool = False) -> list[dict]:
    """The gradebook's rows (dicts keyed by COLUMNS), by student then oldest model first."""
    active = {challenge.dataset: challenge for challenge in challenges.all_active()}
    table = []
    for result in judging.class_results(dataset):
        challenge = active.get(result.dataset)
        verdict = judging.judge(challenge, result) if challenge else None
        table.append({
            "student": result.student,
            "model_id": result.model_id,
            "model_name": result.model_name,
            "dataset": result.dataset,
            "subset": result.subset,
            "settings": result.settings,
            "parameters": result.parameters,
            "epochs": result.epochs,
            "training_images": "" if result.training_images is None else result.training_images,
            "training_seconds": f"{result.training_seconds:.1f}",
            "validation_accuracy": "" if result.validation_accuracy is None else f"{result.validation_accuracy:.4f}",
            "challenge": challenge.title if challenge else "",
            "met_challenge": "" if verdict is None else ("yes" if verdict.met else "no"),
            "why_not": "" if verdict is None or verdict.met else f"{verdict.status}: {'; '.join(verdict.reasons)}",
            "test_accuracy": f"{result.test_accuracy:.4f}" if test_revealed else "",
        })
    return table


def _safe(value):
    """A typed value that a spreadsheet would run as a formula (=, +, -, @ first) is prefixed with a quote."""
    text = str(value)
    return f"'{text}" if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_text(dataset: str | None = None, test_revealed: bool = False) -> str:
    """The gradebook as CSV text (a header row of COLUMNS, then rows())."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(dataset, test_revealed):
        writer.writerow({key: _safe(value) for key, value in row.items()})
    return buffer.getvalue()
