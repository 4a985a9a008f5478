"""The active challenge on the pages: a banner (Home, Train, the board) and the board's ranking."""

import streamlit as st

from mnistlib import challenges, datasets, gradebook, judging, names, students


def banner(dataset: str):
    """Show the dataset's active challenge (title and goal, as text); returns it, or None."""
    challenge = challenges.active(dataset)
    if challenge is not None:
        st.info(names.markdown_escape(f"Challenge: {challenge.title} — {challenge.goal()}."), icon="🎯")
    return challenge


def ranking_section(dataset: str, revealed: bool) -> None:
    """The active challenge's ranking: one best model per student among those meeting it; by test at the reveal."""
    challenge = banner(dataset)
    if challenge is None:
        return
    ranked = judging.ranking(challenge, judging.class_results(dataset))
    if not ranked:
        st.caption("No model meets the challenge yet.")
        return
    shown = judging.by_test(ranked) if revealed else ranked
    columns = {"Place": list(range(1, len(shown) + 1)), "Student": [r.student for r, _ in shown],
               "Model": [r.model_name for r, _ in shown], "Validation accuracy": [r.validation_accuracy for r, _ in shown]}
    if revealed:
        columns["Test accuracy"] = [r.test_accuracy for r, _ in shown]
    st.dataframe(columns, hide_index=True, key="challenge_ranking")
    if revealed:
        st.caption(judging.why_orders_differ(ranked, shown))


def plan_check(dataset: str, spec, epochs: int, data) -> None:
    """On Train, before training: the active challenge and whether these settings are within its limits."""
    challenge = banner(dataset)
    if challenge is None or spec is None:
        return
    reasons = judging.check_plan(challenge, spec, epochs, len(data.x_train), len(data.class_names))
    if reasons:
        st.warning(names.markdown_escape(f"These settings break the challenge's limits: {'; '.join(reasons)}."))
    else:
        st.success("These settings are within the challenge's limits"
                   + (" (its time limit is checked after training)." if challenge.max_seconds else "."))


# ## The teacher's side: set, end, and the class's results as a CSV gradebook


def _set_from_form(actor) -> None:
    """Start the challenge typed in the teacher's form; a refused value is said as its sentence."""
    state = st.session_state
    target = state.get("challenge_target")
    closes = state.get("challenge_closes")
    try:
        challenge = challenges.set_challenge(
            actor, title=state.get("challenge_title", ""), dataset=state.get("challenge_dataset"),
            min_validation_accuracy=None if target is None else target / 100,
            max_parameters=state.get("challenge_max_parameters"), max_epochs=state.get("challenge_max_epochs"),
            max_train_images=state.get("challenge_max_images"), max_seconds=state.get("challenge_max_seconds"),
            closes=closes.isoformat() if closes else None)
    except (ValueError, challenges.PermissionDenied) as refusal:
        state["challenge_message"] = ("error", names.markdown_escape(str(refusal)))
        return
    state["challenge_message"] = ("success", names.markdown_escape(f"Challenge set: {challenge.title} — "
                                                                   f"{challenge.goal()}."))


def _end(actor, challenge_id: int) -> None:
    try:
        ended = challenges.end(actor, challenge_id)
    except (ValueError, LookupError, challenges.PermissionDenied) as refusal:
        st.session_state["challenge_message"] = ("error", names.markdown_escape(str(refusal)))
        return
    st.session_state["challenge_message"] = ("success", names.markdown_escape(f"Challenge ended: {ended.title}. "
                                                                              "It stays readable below."))


def _name_class(actor) -> None:
    try:
        named = students.set_class_name(actor, st.session_state.get("class_name_input", ""))
    except (ValueError, challenges.PermissionDenied) as refusal:
        st.session_state["challenge_message"] = ("error", names.markdown_escape(str(refusal)))
        return
    st.session_state["challenge_message"] = ("success", names.markdown_escape(
        f"The class is now called {named}." if named else "The class has no name now."))


def teacher_panel(actor, revealed: bool) -> None:
    """Name the class, set a challenge (one active per dataset), end one, read the ended ones, and download the
    class's results."""
    message = st.session_state.pop("challenge_message", None)
    if message:
        getattr(st, message[0])(message[1])
    st.session_state.setdefault("class_name_input", students.class_name())
    name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    name_column.text_input("Class name (shown on Home, under Join this class, and here)", key="class_name_input",
                           max_chars=students.MAX_CLASS_NAME_LENGTH, placeholder="Year 10 — Computing")
    button_column.button("Save the name", key="class_name_save", on_click=_name_class, args=(actor,))
    with st.form("challenge_form", clear_on_submit=False, border=True):
        st.markdown("**Set a challenge**: a target validation accuracy on one dataset, within limits you choose "
                    "(leave a limit empty for none).")
        title_column, dataset_column = st.columns([2, 1])
        title_column.text_input("Title", key="challenge_title", max_chars=challenges.MAX_TITLE_LENGTH,
                                placeholder="97% with fewer than 20,000 parameters")
        dataset_column.selectbox("Dataset", datasets.available(), key="challenge_dataset",
                                 format_func=lambda name: datasets.info(name).title)
        target_column, parameters_column, epochs_column = st.columns(3)
        target_column.number_input("Target validation accuracy (%)", 0.1, 100.0, 97.0, 0.1, key="challenge_target")
        parameters_column.number_input("At most … parameters", 1, None, None, 1000, key="challenge_max_parameters")
        epochs_column.number_input("At most … epochs", 1, None, None, 1, key="challenge_max_epochs")
        images_column, seconds_column, closes_column = st.columns(3)
        images_column.number_input("At most … training images", 1, None, None, 100, key="challenge_max_images")
        seconds_column.number_input("At most … seconds of training", 0.1, None, None, 1.0,
                                    key="challenge_max_seconds")
        closes_column.datetime_input("Closes at (UTC, optional)", value=None, key="challenge_closes")
        st.form_submit_button("Set the challenge", type="primary", on_click=_set_from_form, args=(actor,))
    every = challenges.all_challenges()
    for challenge in [challenge for challenge in every if challenge.is_active]:
        text_column, button_column = st.columns([4, 1])
        text_column.markdown(names.markdown_escape(
            f"Active on {datasets.info(challenge.dataset).title}: {challenge.title} — {challenge.goal()}."))
        button_column.button("End it", key=f"challenge_end_{challenge.id}", on_click=_end, args=(actor, challenge.id))
    ended = [challenge for challenge in every if not challenge.is_active]
    if ended:
        with st.expander(f"Ended challenges ({len(ended)})"):
            for challenge in ended:
                ranked = judging.ranking(challenge, judging.class_results(challenge.dataset))
                st.markdown(names.markdown_escape(
                    f"{challenge.title} ({datasets.info(challenge.dataset).title}, ended "
                    f"{challenge.ended[:16].replace('T', ' ')} UTC): {challenge.goal()}. "
                    f"{len(ranked)} student(s) met it."))
    st.download_button("Download results (CSV)", data=lambda: gradebook.csv_text(None, revealed),
                       file_name="mnist-lab-results.csv", mime="text/csv", on_click="ignore", icon="⬇️",
                       key="challenge_results_csv",
                       help="One row per student's model: its settings, validation accuracy, whether it meets the "
                            "active challenge of its dataset (and why not), and test accuracy once you revealed it.")


def verdicts_section(dataset: str) -> None:
    """Every student's model of the dataset against its active challenge: met, not met, or over a limit (which)."""
    challenge = challenges.active(dataset)
    if challenge is None:
        return
    results = judging.class_results(dataset)
    if not results:
        return
    with st.expander(f"Every model against the challenge ({len(results)})"):
        verdicts = [judging.judge(challenge, result) for result in results]
        st.dataframe({"Student": [result.student for result in results],
                      "Model": [result.model_name for result in results],
                      "Verdict": [verdict.status for verdict in verdicts],
                      "Why": [verdict.sentence() for verdict in verdicts]}, hide_index=True, width="stretch",
                     key="challenge_verdicts")
