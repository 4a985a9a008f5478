"""The active challenge on the pages: a banner (Home, Train, the board) and the board's ranking."""

import streamlit as st

from mnistlib import challenges, judging, names


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
