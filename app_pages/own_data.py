"""Your data: add a dataset of your own images (a .zip of class folders, or an .npz), see what the import made of
it, and remove datasets (whoever added one, while no model uses it; the teacher, any)."""

import streamlit as st

from dashboard import identity, layout, url_choices
from dashboard import models as models_ui
from mnistlib import dataset_checks, datasets, importing, names, plots, store, user_datasets
from mnistlib.names import as_text

MAX_UPLOAD_MB = 200  # also .streamlit/config.toml's server.maxUploadSize, the server's own limit
REPORT_KEY = "own_data_report"
SPLITS = {"folders": "kept as the zip's train/ and test/ folders say",
          "file": "kept as the .npz file says",
          "stratified": "made here: {fraction:.0%} of every class held out as the test set, the rest for training"}

layout.setup_page("Your data", "📤")
st.title("Your own data")
models_ui.flash()
low, high = dataset_checks.CLASS_RANGE
st.markdown(
    f"Train on images of your own, like on MNIST. Upload a **.zip** holding one folder per class, named after the "
    f"class (e.g. `cat/1.jpg`, `dog/7.png`): {low} to {high} classes, at least {dataset_checks.MIN_PER_CLASS} "
    "images each. PNG, JPEG, GIF, BMP and WebP pictures of any size, in colour or not, become 28×28 grey images "
    "the way the Draw page prepares one: dark ink on light paper is inverted to white on black, like MNIST. Folders "
    "`train/` and `test/` holding the class folders are kept as your split; otherwise a fraction of every class "
    "is held out as the test set.")
st.markdown("Or upload an **.npz** file holding `x_train`, `y_train`, `x_test` and `y_test` (uint8 images of shape "
            "(N, 28, 28) and whole-number labels 0, 1, 2, …) and, if you like, `class_names`.")


def add_dataset(upload, name: str, title: str, test_fraction: float, actor) -> dict | None:
    """Import the upload as dataset name, with a progress bar; the report to show, or None after an error message."""
    progress = st.progress(0.0, text="Reading the file…")

    def report_progress(done: int, total: int, message: str) -> None:
        progress.progress(min(done / total, 1.0) if total else 0.0, text=message[:1].upper() + message[1:])

    try:
        datasets.check_new_name(name)  # before decoding thousands of images
        imported = importing.read_file(upload.getvalue(), upload.name, test_fraction, report_progress)
        entry = importing.add_imported(name, imported, title.strip() or None, added_by=actor)
    except (ValueError, OSError, MemoryError) as error:  # one sentence from the library: nothing was stored
        progress.empty()
        st.error(names.markdown_escape(str(error)) if isinstance(error, ValueError) else
                 f"{as_text(upload.name)} could not be read on the server ({error.__class__.__name__}); nothing was stored.")
        return None
    progress.empty()
    return {"name": entry.name, "title": entry.title, "source": imported.source, "class_names": entry.class_names,
            "counts": imported.class_counts(), "split": imported.split, "test_fraction": test_fraction,
            "dark_on_light": imported.dark_on_light, "light_on_dark": imported.light_on_dark,
            "skipped": imported.skipped, "examples": imported.examples, "samples": imported.samples(per_class=5)}


def show_report(report: dict) -> None:
    """What the import made of the file: classes and counts, samples, the ink detected, skipped files, the split."""
    class_names, counts = report["class_names"], report["counts"]
    st.success(f"Added **{names.markdown_escape(report['title'])}** (`{report['name']}`) from "
               f"{names.markdown_escape(report['source'])}. It is now in every page's choice of dataset.")
    columns = st.columns(3)
    columns[0].metric("Classes", len(class_names))
    columns[1].metric("Training images", f"{counts['train'].sum():,}")
    columns[2].metric("Test images", f"{counts['test'].sum():,}")
    st.markdown("**The split:** " + SPLITS[report["split"]].format(fraction=report["test_fraction"]) + ".")
    table, chart = st.columns([2, 3])
    table.dataframe({"Class": [f"{label} · {class_name}" for label, class_name in enumerate(class_names)],
                     "Training images": counts["train"].tolist(), "Test images": counts["test"].tolist()},
                    hide_index=True, key="own_data_counts")
    chart.plotly_chart(plots.class_counts_bar(counts["train"] + counts["test"], class_names,
                                              title="Images per class"), key="own_data_counts_chart")
    images, labels = report["samples"]
    st.image(plots.figure_png(plots.sample_grid(images, labels, class_names), dpi=70),
             caption="The first training images of each class, as the model sees them (28×28, shown dark on light)",
             alt="A grid of the first training images of each class, each titled with its class")
    if report["examples"]:
        st.subheader("Dark on light, or light on dark?")
        found = [f"dark ink on a light background in **{report['dark_on_light']:,}**, inverted to white on black"
                 ] if report["dark_on_light"] else []
        if report["light_on_dark"]:
            found.append(f"light ink on a dark background in **{report['light_on_dark']:,}**, kept as it is")
        st.markdown(f"MNIST's digits are white ink on black. Detected in your images: {'; '.join(found)}. One image "
                    "of each class, before and after:")
        for row_start in range(0, len(report["examples"]), 5):
            for column, example in zip(st.columns(5), report["examples"][row_start:row_start + 5], strict=False):
                choice = "dark on light: inverted" if example.inverted else "light on dark: kept"
                column.image(example.before, caption=f"{as_text(example.class_name)}: as uploaded (in grey)", clamp=True,
                             alt=f"An image of class {example.class_name} as uploaded, in grey")
                column.image(plots.enlarge(example.after, 4), caption=f"28×28, {choice}", clamp=True,
                             alt=f"The same image at 28×28, {choice}")
    if report["skipped"]:
        with st.expander(f"Skipped {len(report['skipped'])} file(s) that are not images"):
            st.markdown("\n".join(f"- {names.markdown_escape(path)}" for path in report["skipped"][:200]))
    layout.page_link("app_pages/train.py", "Train a model on it", {"dataset": report["name"]})


def remove_dataset(name: str) -> None:
    """Remove a dataset for this session's actor (rights checked by the library), keeping the message for the page."""
    try:
        models_ui.say("success", names.markdown_escape(user_datasets.remove_as(name, identity.current_actor())))
    except store.PermissionDenied as refusal:
        models_ui.say("error", str(refusal))
        return
    except ValueError as error:  # removed meanwhile, in another tab
        models_ui.say("warning", names.markdown_escape(str(error)))
    st.session_state.pop(REPORT_KEY, None)
    if st.session_state.get("dataset") == name:
        st.session_state["dataset"] = url_choices.DEFAULT_DATASET
        st.session_state.pop("model", None)
        st.query_params.pop("model", None)


def show_dataset(name: str, actor) -> None:
    """One user dataset: what it is, who added it, how many models use it, and Remove for whoever may."""
    try:
        entry = datasets.info(name)
    except (ValueError, datasets.DataCorruptError):  # its description is damaged or missing
        entry = None
    if entry is None:
        st.markdown(f"**{as_text(name)}**: its files are damaged, so it cannot be used; the teacher can remove it.")
        allowed = actor is not None and actor.teacher
    else:
        used = user_datasets.models_using(name)
        added = entry.created[:16].replace("T", " ")
        st.markdown(f"**{names.markdown_escape(entry.title)}** (`{name}`): {len(entry.class_names)} classes "
                    f"({names.markdown_escape(', '.join(entry.class_names))}); added by "
                    f"{names.markdown_escape(entry.added_by or 'the command line')} on {added} UTC from "
                    f"{names.markdown_escape(entry.source or 'a file')}; {used} stored model(s) trained on it.")
        allowed = actor is not None and (actor.teacher or (entry.added_by_key == actor.key and not used))
    if not allowed:
        return
    with st.popover(f"Remove {as_text(name)}", icon="🗑️"):
        st.markdown("Its images are deleted for the whole class; models trained on it stay in the store but can no "
                    "longer be opened." if actor.teacher else "Its images are deleted: this cannot be undone.")
        st.button(f"Yes: remove {name}", type="primary", key=f"own_data_remove_{name}", on_click=remove_dataset,
                  args=(name,))


# ## Adding a dataset

st.subheader("Add a dataset")
actor = identity.require_actor("add")
upload = st.file_uploader(f"A .zip of class folders or an .npz file (up to {MAX_UPLOAD_MB} MB)", type=["zip", "npz"],
                          key="own_data_file", max_upload_size=MAX_UPLOAD_MB)
name_column, title_column = st.columns(2)
name = name_column.text_input("Name", key="own_data_name", max_chars=40, placeholder="e.g. my_digits",
                              help="1 to 40 lower-case letters, digits, - and _: it is used in links and on the "
                                   "command line (--dataset NAME).")
title = title_column.text_input("Title (optional)", key="own_data_title", max_chars=60,
                                placeholder="e.g. Our handwritten digits", help="What the pages call it.")
low_fraction, high_fraction = importing.TEST_FRACTION_RANGE
percent = st.slider("Test set: share of every class held out", int(low_fraction * 100), int(high_fraction * 100),
                    20, step=5, format="%d%%", key="own_data_test_percent",
                    help="Used when the zip has no train/ and test/ folders (an .npz brings its own split).")
if st.button("Add the dataset", type="primary", key="own_data_add", disabled=actor is None or upload is None):
    report = add_dataset(upload, name.strip(), title, percent / 100, actor)
    if report is not None:
        st.session_state[REPORT_KEY] = report
        st.session_state["dataset"] = report["name"]  # every page now shows it
        st.session_state.pop("model", None)
        st.query_params.pop("model", None)
        st.rerun()
if REPORT_KEY in st.session_state:
    show_report(st.session_state[REPORT_KEY])

# ## The class's datasets

st.subheader("The class's own datasets")
stored = datasets.custom_names()
if not stored:
    st.caption("None yet: add the first one above.")
for stored_name in stored:
    show_dataset(stored_name, actor)
st.caption("Whoever added a dataset can remove it while no stored model was trained on it; after that only the "
           "teacher can.")
