"""Who may do what with a stored model, checked here (never by hiding a button): a student renames and removes
only models in their own list; the teacher may delete any model and clear the board.

A model that several students asked for (a shared training) is in each one's list under their own name;
removing it takes it off that list, and its files go only when nobody has it any more.
"""

from dataclasses import dataclass

from mnistlib import names
from mnistlib.store import folders, index

TEACHER_KEY = "teacher"


class PermissionDenied(PermissionError):
    """The person asking may not do this to this model (a sentence saying why)."""


@dataclass(frozen=True)
class Actor:
    """Who is asking: a student (their name's key and display) or the teacher. Built by the server from a
    verified session, never from a URL or a form."""

    key: str
    display: str
    teacher: bool = False

    def __repr__(self):
        return f"Actor({self.display!r}{', teacher' if self.teacher else ''})"


TEACHER = Actor(TEACHER_KEY, "Teacher", teacher=True)


def owners_of(model_id: str) -> list[folders.Owner]:
    """Who has the model in their list (from its folder, the source of truth)."""
    return folders.read_owners(model_id)


def owns(model_id: str, actor: Actor) -> bool:
    return any(owner.key == actor.key for owner in owners_of(model_id))


def add_owner(model_id: str, actor: Actor, name: str | None = None) -> folders.Owner:
    """Put the model in the actor's list (once; a second call keeps their name); returns their ownership."""
    with folders.locked(model_id):
        owners = folders.read_owners(model_id)
        existing = next((owner for owner in owners if owner.key == actor.key), None)
        if existing is not None:
            return existing
        card = folders.read_card(model_id)
        owner = folders.Owner(actor.key, actor.display, folders.validate_name(name or card.name), folders.now())
        owners.append(owner)
        folders.write_owners(model_id, owners)
        index.record_owners(model_id, owners)
    return owner


def rename(model_id: str, actor: Actor, new_name: str) -> str:
    """The actor's new name for a model in their list; PermissionDenied for anyone else's model."""
    name = folders.validate_name(new_name)
    with folders.locked(model_id):
        owners = folders.read_owners(model_id)
        if not any(owner.key == actor.key for owner in owners):
            raise PermissionDenied("You can only rename models in your own list; this one is not yours. "
                                   "Nothing was changed.")
        owners = [folders.Owner(owner.key, owner.display, name, owner.added) if owner.key == actor.key else owner
                  for owner in owners]
        folders.write_owners(model_id, owners)
        index.record_owners(model_id, owners)
    return name


def remove(model_id: str, actor: Actor) -> str:
    """Take the model off the actor's list (its files go when nobody has it any more); the teacher deletes it
    for everyone. Returns one sentence saying what happened; PermissionDenied for a student's other models."""
    if actor.teacher:
        folders.remove(model_id)
        index.forget(model_id)
        return "Deleted for the whole class."
    with folders.locked(model_id):
        owners = folders.read_owners(model_id)
        if not any(owner.key == actor.key for owner in owners):
            raise PermissionDenied("You can only delete models in your own list; this one is not yours. "
                                   "Nothing was changed.")
        remaining = [owner for owner in owners if owner.key != actor.key]
        if remaining:
            folders.write_owners(model_id, remaining)
            index.record_owners(model_id, remaining)
            return (f"Removed from your list; {len(remaining)} other student(s) still have it, so its files stay.")
    folders.remove(model_id)
    index.forget(model_id)
    return "Deleted."


def clear_board(actor: Actor) -> int:
    """The teacher deletes every stored model (e.g. at the end of a term); returns how many."""
    if not actor.teacher:
        raise PermissionDenied("Only the teacher can clear the board. Nothing was changed.")
    removed = 0
    for model_id in folders.model_ids():
        try:
            folders.remove(model_id)
        except (folders.ModelNotFoundError, OSError):
            continue
        index.forget(model_id)
        removed += 1
    return removed


def display(actor: Actor) -> str:
    """The actor's name, escaped for Markdown (names are shown as text, never as markup)."""
    return names.markdown_escape(actor.display)
