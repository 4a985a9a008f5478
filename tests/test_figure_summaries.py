"""Figures in words for a screen reader: the saliency sentence, checked on a hand-made map."""

import numpy as np

from mnistlib import insight_figures as figures


def test_the_saliency_sentence_counts_and_locates_the_pixels():
    values = np.zeros((28, 28))
    values[5:8, 10:12] = np.arange(1, 7).reshape(3, 2)  # six pixels for, strongest at the bottom right of the block
    values[20, 3] = -1.0
    sentence = figures.saliency_summary(values, "7", strongest=2)
    assert sentence == ("In words: 6 inked pixels raise the probability of 7 and 1 lower it; the 2 that raise it "
                        "most lie in row 7 and columns 10–11 of the 28×28 image (0 = top left).")
    assert figures.saliency_summary(-values.clip(0), "3") == ("In words: no inked pixel raises the probability of 3; "
                                                              "6 lower it.")
