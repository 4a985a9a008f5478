"""Managing models in the page: a student renames and deletes their own, the teacher deletes any and runs the class.

Rights are checked by the store (mnistlib.store.ownership) against this session's actor (dashboard.identity), never by
hiding a button and never from a URL or a form: whatever model id the page's state names, a refusal comes back
as PermissionDenied, is shown as its sentence, and nothing changes.

    models_ui.manage(card)       # rename / delete one model (Predict, the class board)
    models_ui.teacher_panel()    # reveal test accuracy, clear the board, the class's names
"""

import streamlit as st

from dashboard import identity
from mnistlib import names, store, student_data, students

FLASH_KEY = "models_flash"
CLEAR_PHRASE = "delete every model"


def say(kind: str, text: str) -> None:
    """Keep a message (kind "success", "info", "warning" or "error"; Markdown) for the next run to show once."""
    st.session_state[FLASH_KEY] = (kind, text)


def flash() -> None:
    """Show, once, what the last rename, delete or teacher action did."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        kind, text = message
        getattr(st, kind)(text)


def _act(action) -> tuple[bool, object]:
    """Run action(actor) for this session's actor: (True, its result), or (False, None) with the reason kept for
    the page (a refusal from the store is shown as its own sentence)."""
    actor = identity.current_actor()
    if actor is None:
        say("warning", "Type your name in the sidebar first: only your own models can be renamed or deleted.")
        return False, None
    try:
        return True, action(actor)
    except store.PermissionDenied as refusal:
        say("error", str(refusal))
    except store.ModelNotFoundError:
        say("warning", "This model has just been deleted (perhaps in another tab): nothing was changed.")
    except (ValueError, store.CorruptModelError) as error:  # a bad new name, an unreadable model, not an id
        say("error", names.markdown_escape(str(error)))
    return False, None


# ## One model: rename it (in your own list) or delete it


def _rename(key: str) -> None:
    model_id = st.session_state.get(f"{key}_model")
    new_name = st.session_state.get(f"{key}_name", "")
    done, name = _act(lambda actor: store.ownership.rename(model_id, actor, new_name))
    if done:
        say("success", f"Renamed: it is now “{names.markdown_escape(name)}” in your list.")


def _delete(key: str) -> None:
    model_id = st.session_state.get(f"{key}_model")
    done, outcome = _act(lambda actor: store.ownership.remove(model_id, actor))
    if done:
        say("success", outcome)
        if st.session_state.get("model") == model_id:  # the model other pages had open is gone from this list
            st.session_state.pop("model", None)
            st.query_params.pop("model", None)


def manage(card, key: str = "manage") -> None:
    """Rename and delete controls for one stored model (a store.ModelCard or store.ModelEntry): enabled for what
    this session may do; the store checks again when a button is pressed."""
    flash()
    actor = identity.current_actor()
    try:
        owners = store.ownership.owners_of(card.id)
    except store.ModelNotFoundError:
        st.warning("This model has just been deleted.")
        return
    except store.CorruptModelError:
        owners = []  # its owners file is damaged: only the teacher can delete it
    mine = next((owner for owner in owners if actor is not None and owner.key == actor.key), None)
    # The model these controls act on, read back by the buttons' callbacks; a new model resets the name box.
    if st.session_state.get(f"{key}_model") != card.id:
        st.session_state[f"{key}_model"] = card.id
        st.session_state[f"{key}_name"] = mine.name if mine else card.name
    if actor is None:
        st.caption("Type your name in the sidebar to rename or delete your own models.")
        return
    if mine is not None:
        with st.form(f"{key}_rename_form", border=False):
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            left.text_input("Its name in your list", max_chars=store.MAX_NAME_LENGTH, key=f"{key}_name")
            right.form_submit_button("Rename", on_click=_rename, args=(key,), key=f"{key}_rename")
    if mine is None and not actor.teacher:
        whose = ", ".join(owner.display for owner in owners) or "nobody any more"
        st.caption(f"Not in your list (it belongs to {names.markdown_escape(whose)}): only the students who have it, "
                   "or the teacher, can rename or delete it.")
        return
    others = len(owners) - (mine is not None)
    if actor.teacher:
        label, sentence = "Delete for the whole class", "It disappears from every student's list, with its files."
    elif others:
        label, sentence = "Remove from my list", (f"{others} other student(s) have it too: it stays in their lists "
                                                   "and its files stay.")
    else:
        label, sentence = "Delete", "Its files are deleted: this cannot be undone."
    with st.popover(label, icon="🗑️"):
        st.markdown(sentence)
        st.button(f"Yes: {label.lower()}", type="primary", key=f"{key}_delete", on_click=_delete, args=(key,))


# ## The teacher's panel (only shown to the teacher; every action is checked again by the library)


def _reveal() -> None:
    revealed = bool(st.session_state["teacher_reveal_test"])
    if _act(lambda actor: students.reveal_test(actor, revealed))[0]:
        say("success", "Test accuracy is now shown to the class." if revealed else "Test accuracy is hidden again.")


def _clear_board() -> None:
    typed = " ".join(str(st.session_state.get("teacher_clear_confirm", "")).split()).lower()
    if typed != CLEAR_PHRASE:
        say("error", f"Type “{CLEAR_PHRASE}” in the box to confirm. Nothing was deleted.")
        return
    done, removed = _act(store.ownership.clear_board)
    if done:
        st.session_state["teacher_clear_confirm"] = ""
        say("success", f"The board is cleared: {removed} model(s) deleted.")


def _free_name() -> None:
    key = st.session_state.get("teacher_free_name")
    if _act(lambda actor: students.free_name(key, actor))[0]:
        say("success", "Freed: the next browser to type this name gets it (the models in its list stay).")


def _delete_damaged() -> None:
    def delete_all(actor) -> int:
        for broken in store.broken():
            store.ownership.remove(broken.id, actor)
        return len(broken_models)

    broken_models = store.broken()
    done, removed = _act(delete_all)
    if done:
        say("success", f"{removed} damaged model(s) deleted.")


def teacher_panel() -> None:
    """Reveal or hide test accuracy, clear the board (typed confirmation), delete damaged models, and free a
    student's name."""
    st.session_state["teacher_reveal_test"] = students.test_revealed()
    st.toggle("Show test accuracy to the class", key="teacher_reveal_test", on_change=_reveal,
              help="At the end, once everyone has chosen their model by validation accuracy.")
    with st.expander("Clear the board"):
        st.markdown(f"Deletes every stored model of the class, for everyone, with its files (e.g. at the end of a "
                    f"term). Type **{CLEAR_PHRASE}** to confirm.")
        st.text_input("Confirmation", key="teacher_clear_confirm", placeholder=CLEAR_PHRASE)
        st.button("Clear the board", key="teacher_clear_board", on_click=_clear_board)
    broken = store.broken()
    if broken:
        with st.expander(f"Damaged models ({len(broken)})"):
            st.markdown("Their files cannot be read, so no page lists them:")
            st.dataframe({"Model": [model.id for model in broken], "What is wrong": [model.message for model in broken]},
                         hide_index=True, width="stretch")
            st.button("Delete the damaged models", key="teacher_delete_damaged", on_click=_delete_damaged)
    roster = students.roster()
    with st.expander(f"Students ({len(roster)})"):
        if not roster:
            st.caption("No student has given a name yet.")
            return
        st.dataframe({"Name": [student["display"] for student in roster],
                      "Joined (UTC)": [student["created"][:16].replace("T", " ") for student in roster]},
                     hide_index=True, width="stretch")
        displays = {student["key"]: student["display"] for student in roster}
        st.selectbox("Student", list(displays), format_func=displays.get, key="teacher_free_name",
                     help="Free a name when a student changed computer or browser: the next browser to type it "
                          "gets it, with the models in its list.")
        st.button("Free this name", key="teacher_free_button", on_click=_free_name)
        student_data_controls(st.session_state.get("teacher_free_name"), displays)


def _delete_student() -> None:
    key = st.session_state.get("teacher_free_name")
    if not st.session_state.get("teacher_delete_confirm"):
        say("warning", "Tick the box first: deleting a student cannot be undone. Nothing was deleted.")
        return
    done, said = _act(lambda actor: student_data.delete(actor, key))
    if done:
        say("success", names.markdown_escape(said))


def student_data_controls(key, displays: dict) -> None:
    """The selected student's data: download it as a zip (built only when clicked), or delete them with everything
    only they own (a ticked box first). Both are checked again in the library: the teacher only."""
    if key is None:
        return
    actor = identity.current_actor()
    st.download_button("Download their data (.zip)", data=lambda: student_data.export_zip(actor, key),
                       file_name=f"mnist-lab-student-{names.key(displays[key]).replace(' ', '-')}.zip",
                       mime="application/zip", on_click="ignore", key="teacher_export_student", icon="⬇️",
                       help="Their name, when they joined, and each of their models' card and .keras file.")
    st.checkbox(names.markdown_escape(f"Yes, delete {displays[key]} and everything only they own"),
                key="teacher_delete_confirm")
    st.button("Delete this student", key="teacher_delete_student", on_click=_delete_student,
              help="Their name, the models nobody else has in their list, and the datasets they added. Shared "
                   "models stay with the other students.")


# ## Take a model home: its .keras file, and a project that trains it again with plain Keras


def downloads(card, key: str = "downloads") -> None:
    """Download buttons for a stored model: the .keras file and a zip with train.py, data.npz and a README
    (built only when clicked); a model that cannot be exported says why instead."""
    from mnistlib import export

    try:
        export.check(card.id)
    except (ValueError, LookupError, RuntimeError, OSError) as error:
        st.warning(f"This model cannot be downloaded: {names.markdown_escape(str(error))}")
        return
    model_column, project_column = st.columns(2)
    model_column.download_button(
        "Model (.keras)", data=lambda: export.model_bytes(card.id), file_name=f"mnist-lab-{card.id}.keras",
        mime="application/octet-stream", on_click="ignore", key=f"{key}_keras", icon="⬇️", width="stretch",
        help=f'In Python: `import keras`, then `model = keras.saving.load_model("mnist-lab-{card.id}.keras")`; '
             "give it images divided by 255, like x_test / 255.0.")
    project_column.download_button(
        "Train it yourself (.zip)", data=lambda: export.project_zip(card.id), file_name=f"mnist-lab-{card.id}.zip",
        mime="application/zip", on_click="ignore", key=f"{key}_project", icon="⬇️", width="stretch",
        help="train.py with this model's exact layers and settings in plain Keras (keras.Sequential, compile, fit, "
             "evaluate), the data it was trained on (data.npz) and a three-line README: `python train.py` trains it "
             "again and prints its test accuracy.")
