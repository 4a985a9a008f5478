"""The gap, drawn, in Chromium: after a short lab training (few images, noisy labels) the Train page's accuracy
panel shades the band between training and validation accuracy, labels the gap at the last epoch, says it in a text
line, and the end of the run says whether it is beyond noise; the label agrees with the stored model's figures."""

import re

from playwright.sync_api import expect

from mnistlib import datasets, overfitting, store
from tests.browser.conftest import click_train, give_name, open_page, settle
from tests.browser.test_accessibility import assert_no_violations
from tests.browser.test_live_training import open_train_page

PANEL = ".live-training .panel.accuracy"


def shown_gap(record: dict) -> float:
    """The gap in points as the page shows it: the difference of the two accuracies rounded to 0.1%."""
    return round(round(100 * record["accuracy"], 1) - round(100 * record["val_accuracy"], 1), 1)


def test_a_short_lab_training_shows_the_gap_band_label_and_sentence(page, app_server, monkeypatch):
    url, models = app_server
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(models))  # the app's store, to read the model's card
    epochs = 20  # enough for 200 images to be learned by heart
    open_train_page(page, url, epochs=epochs, seed=303, train_images=200, label_noise=0.2)
    give_name(page, "Gapper")
    click_train(page)
    # While training: the line under the chart names the newest epoch's gap.
    expect(page.locator(".live-training .gap-text")).to_have_text(
        re.compile(r"^Epoch \d+: training \d+\.\d%, validation \d+\.\d%, gap −?\d+\.\d points\.$"), timeout=120_000)
    expect(page.get_by_text("Test accuracy")).to_be_visible(timeout=180_000)
    settle(page)
    expect(page.locator(".live-training svg.chart")).to_have_attribute("data-epochs", str(epochs))

    link = page.get_by_role("link", name="Browse its predictions →").get_attribute("href")
    card = store.load_card(re.search(r"model=([0-9a-f-]+)", link).group(1))
    last = card.history[-1]
    gap = shown_gap(last)
    gap_words = f"gap {'−' if gap < 0 else ''}{abs(gap):.1f} points"
    expect(page.locator(f"{PANEL} .gap-label")).to_have_text(gap_words)
    expect(page.locator(f"{PANEL} .gap-label")).to_be_visible()
    expect(page.locator(".live-training .gap-text")).to_have_text(
        f"Epoch {epochs}: training {100 * last['accuracy']:.1f}%, validation {100 * last['val_accuracy']:.1f}%, "
        f"{gap_words}.")
    # The band covers every epoch: one corner per epoch on each of its two curves.
    corners = page.locator(f"{PANEL} polygon.gap-band").evaluate("(band) => band.points.numberOfItems")
    assert corners == 2 * epochs
    assert page.locator(".live-training .panel.loss .gap-band").count() == 0  # the band is on accuracy only
    # The end of the run: one sentence on this gap against noise, with the lab's settings.
    sentence = overfitting.gap_sentence(overfitting.card_verdict(
        card.to_dict(), len(datasets.load("mnist", subset="small").y_train)))
    expect(page.get_by_text(sentence, exact=True)).to_be_visible()
    assert sentence.startswith(f"After epoch {epochs}, training accuracy is {100 * last['accuracy']:.1f}% (measured "
                               "against its training labels, 20% of which were replaced by a wrong class)")
    assert sentence.endswith("lab settings changed from their defaults: 200 training images, 20% noisy labels.")
    if overfitting.card_verdict(card.to_dict(), len(datasets.load("mnist", subset="small").y_train)).beyond_noise:
        expect(page.get_by_text("no sign of overfitting")).to_have_count(0)  # the loss verdict does not contradict
    page.locator(".live-training svg.chart").scroll_into_view_if_needed()  # for the screenshot
    assert_no_violations(page, "Train with the gap drawn")


def test_compare_draws_both_runs_on_one_chart_and_passes_axe(page, app_server, monkeypatch):
    url, models = app_server
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(models))
    for seed in (305, 306):  # two default runs of 3 epochs
        open_train_page(page, url, epochs=3, seed=seed)
        if seed == 305:
            give_name(page, "Comparer")
        click_train(page)
        expect(page.get_by_text("Saved: the other pages now list it.")).to_be_visible(timeout=180_000)
    first, second = sorted(store.list_models("mnist"), key=lambda card: card.created)[-2:]
    open_page(page, url, "Compare", dataset="mnist", a=first.id, b=second.id)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has=page.locator(".legendtext")).first
    chart.scroll_into_view_if_needed()
    legend = chart.locator(".legendtext")
    expect(legend).to_have_count(4)
    assert sorted(legend.all_text_contents()) == sorted(f"{letter}: {card.name} · {kind}" for letter, card in
                                                      (("A", first), ("B", second))
                                                      for kind in ("training", "validation"))
    # Four lines in each of the two panels: training and validation of both runs.
    assert chart.locator(".scatterlayer .trace").count() == 8
    for letter in "AB":
        expect(page.get_by_text(re.compile(rf"^{letter} \(.+\): After epoch 3, training accuracy is "))).to_be_visible()
    assert_no_violations(page, "Compare with two runs")
