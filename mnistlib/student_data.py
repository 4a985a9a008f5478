"""One student's data, for the teacher: everything the server keeps about them as a zip, and deleting them with
everything only they own (their name, their models nobody else has; shared models lose them as an owner).

    student_data.export_zip(store.TEACHER, "ada")     # bytes of a zip: student.json, and per model card + .keras
    student_data.delete(store.TEACHER, "ada")         # one sentence saying what was deleted
"""

import io
import json
import zipfile

from mnistlib import datasets, store, students
from mnistlib.store import Actor, PermissionDenied, listing, ownership


def _student(actor: Actor, key: str, what: str) -> Actor:
    """The student with this key (the teacher only); LookupError for a key nobody has."""
    if not isinstance(actor, Actor) or not actor.teacher:
        raise PermissionDenied(f"Only the teacher can {what}. Nothing was changed.")
    for student in students.roster():
        if student["key"] == key:
            return Actor(key, student["display"])
    raise LookupError(f"No student of this class has the key {key!r}.")


def export_zip(actor: Actor, key: str) -> bytes:
    """A zip of what the server keeps about one student: student.json (name, when they joined, their models and
    datasets), and for each of their models its card (card.json) and its .keras file."""
    student = _student(actor, key, "export a student's data")
    joined = next(entry["created"] for entry in students.roster() if entry["key"] == key)
    models = listing.entries(viewer=key, scope="mine")
    added = [name for name in datasets.custom_names() if _added_by(name) == key]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("student.json", json.dumps({
            "name": student.display, "key": key, "joined": joined, "datasets_added": added,
            "models": [{"id": entry.id, "name": entry.name, "dataset": entry.dataset} for entry in models]},
            indent=1, ensure_ascii=False))
        for entry in models:
            try:
                card = store.load_card(entry.id).to_dict()
                keras_bytes = store.model_bytes(entry.id)
            except (store.ModelNotFoundError, store.CorruptModelError):
                continue  # deleted or damaged meanwhile: student.json still lists it
            archive.writestr(f"models/{entry.id}/card.json", json.dumps(card, indent=1, ensure_ascii=False))
            archive.writestr(f"models/{entry.id}/model.keras", keras_bytes)
    return buffer.getvalue()


def _added_by(name: str) -> str:
    try:
        return datasets.info(name).added_by_key
    except (ValueError, datasets.DataCorruptError):
        return ""


def delete(actor: Actor, key: str) -> str:
    """Delete a student and everything only they own: their models nobody else has (shared ones just lose them),
    the datasets they added, and their name (their browser is signed out). One sentence saying what went."""
    student = _student(actor, key, "delete a student")
    deleted = shared = 0
    for entry in listing.entries(viewer=key, scope="mine"):
        try:
            said = ownership.remove(entry.id, student)  # as the student: files go only if nobody else has it
        except store.ModelNotFoundError:
            continue
        deleted, shared = (deleted + 1, shared) if said == "Deleted." else (deleted, shared + 1)
    removed = [name for name in datasets.custom_names() if _added_by(name) == key]
    for name in removed:
        datasets.remove(name)
    students.free_name(key, actor)
    return (f"Deleted {student.display}: {deleted} model(s) only they had, {len(removed)} dataset(s) they added, "
            f"and their name; {shared} shared model(s) stay with the other students who have them.")
