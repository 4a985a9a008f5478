"""Draw: draw a digit or upload an image, see the 28×28 input the model receives, its probabilities and why."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from dashboard import insight as insight_ui
from dashboard import layout, loaders, url_choices
from mnistlib import concepts, datasets, images, models, names, plots, store
from mnistlib.names import as_text

layout.setup_page("Draw", "✏️")
st.title("Draw or upload your own image")
name = url_choices.chosen_dataset()
card = loaders.model_picker(name, key="draw_model") or loaders.require_model(name)
data_title = datasets.info(card.dataset).title
class_names = loaders.require_dataset(card.dataset, card.subset).class_names
# What to draw follows the model's dataset: the prompts below name it.
thing = {"mnist": "digit", "fashion_mnist": "piece of clothing, shoe or bag"}.get(card.dataset,
                                                                                 "thing like its training images")
if card.dataset == "fashion_mnist":
    st.info(f"This model was trained on Fashion-MNIST: it knows clothes, shoes and bags, not digits. Whatever you "
            f"draw, it answers with one of its {len(class_names)} classes. Switch to MNIST digits to recognise a "
            "handwritten digit.")
elif datasets.info(card.dataset).custom:
    st.info(names.markdown_escape(f"This model was trained on {data_title}, the class's own images: it knows "
                                  f"{len(class_names)} classes ({', '.join(class_names)}). Whatever you draw or "
                                  "upload, it answers with one of them; draw something like its training images."))


def show_prediction(gray, key: str = "draw") -> None:
    """Prepare a grayscale image like MNIST and show what the model sees, what it answers and why (key: "draw" or
    "upload", one per tab)."""
    model_input, already = images.model_input(gray)
    if model_input is None:
        st.info(f"Nothing to recognise yet: the image is empty. Draw a {thing} or upload a picture.")
        return
    try:
        model = loaders.keras_model(card.id, card.created)
    except store.CorruptModelError:
        st.error(concepts.DAMAGED_MODEL)
        return
    probabilities = models.predict_images(model, model_input[None])[0]
    guess = int(probabilities.argmax())
    seen, answer = st.columns([1, 2])
    with seen:
        st.image(plots.enlarge(model_input), width=196, caption="the 28×28 input the model sees",
                 alt="Your image as the 28×28 input the model sees, enlarged")
        st.markdown(f"### Predicted: {names.markdown_escape(class_names[guess])}")
        st.markdown(f"confidence **{probabilities[guess]:.1%}**")
    with answer:
        st.plotly_chart(plots.probability_bar(probabilities, class_names, title="Probabilities"),
                        key=f"{key}_histogram")
        with st.expander("The probabilities as a table"):
            st.table({"class": list(class_names), "probability": [f"{p:.1%}" for p in probabilities],
                      "answer": ["predicted" if k == guess else "" for k in range(len(class_names))]}, hide_index=True)
    st.caption(concepts.note("confidence"))
    insight_ui.explanation_expander(model, model_input, class_names, key=f"{key}_why", expanded=True,
                                    epochs_run=card.epochs_run)
    if already:
        st.caption("This image is already in MNIST form (28×28, white on black, centred), so it is used as it is.")
    else:
        with st.expander("How the image was prepared: MNIST's recipe (20-px box, centred by mass)"):
            if card.dataset != "mnist":
                st.caption(f"Every image drawn or uploaded here gets MNIST's recipe; {as_text(data_title)}'s own images "
                           "were not made this way, so yours may look a little different from them.")
            steps = images.preprocess_steps(gray)
            columns = st.columns(len(steps))
            for column, (title, picture) in zip(columns, steps, strict=True):
                column.image(picture, caption=title, width="stretch", clamp=True, alt=f"Your image, step: {title}")


draw_tab, upload_tab = st.tabs(["✏️ Draw", "📁 Upload"])
with draw_tab:
    canvas_column, result_column = st.columns([1, 2])
    with canvas_column:
        st.caption(f"Draw one {thing}, large, in the black square. The bin icon in its toolbar clears it. "
                   f"Without a mouse or touch screen, use the **📁 Upload** tab: it takes a picture of a {thing} "
                   "from a file, by keyboard.")
        drawing = st_canvas(stroke_width=20, stroke_color="#FFFFFF", background_color="#000000", height=280,
                            width=280, drawing_mode="freedraw", return_image_data=True, key="draw_canvas")
    with result_column:
        if drawing.image_data is None:
            st.info(f"Draw a {thing} to see the model's answer.")
        else:
            show_prediction(images.canvas_to_gray(drawing.image_data))
with upload_tab:
    st.caption("By keyboard: Tab to the **Upload** button below and press Enter (or Space) to choose the file; the answer "
               "appears below.")
    upload = st.file_uploader(f"An image of one {thing} (PNG, JPEG, GIF, BMP or WebP; up to 2 MB)", key="draw_upload",
                              type=["png", "jpg", "jpeg", "gif", "bmp", "webp"],
                              max_upload_size=round(images.MAX_BYTES / 2**20))  # MB; the server allows more for zips
    if upload is not None:
        try:
            gray = images.decode_upload(upload.getvalue())
        except images.ImageError as error:
            st.error(str(error))
        else:
            show_prediction(gray, key="upload")
