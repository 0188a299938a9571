"""Choropleth classes: Fisher-Jenks natural breaks, checked by hand."""

import numpy as np
import pandas as pd

from territorial_geo.maps import classify


def test_natural_breaks_fall_between_the_groups():
    # five well-separated groups: the optimal 5-class breaks are each group's maximum
    v = pd.Series([1, 2, 3, 10, 11, 12, 20, 21, 22, 40, 41, 42, 90, 91, 92], dtype=float)
    classes, bins = classify(v, k=5)
    assert bins == [3.0, 12.0, 22.0, 42.0, 92.0]
    assert classes.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3


def test_a_value_on_a_break_belongs_to_the_lower_class():
    v = pd.Series([0, 0, 5, 5, 6, 30, 31, 100, 101, 500, 501], dtype=float)
    classes, bins = classify(v, k=5)
    for c, x in zip(classes, v, strict=True):
        assert x <= bins[c] and (c == 0 or x > bins[c - 1])


def test_few_distinct_values_are_their_own_classes():
    classes, bins = classify(pd.Series([3.0, np.nan, 1.0, 3.0]), k=5)
    assert bins == [0.0, 1.0, 3.0]          # missing counts as 0
    assert classes.tolist() == [2, 0, 1, 2]
