from __future__ import annotations

import numpy as np
import pytest

from evaluation.metrics import count


def test_counts_and_ratios() -> None:
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    flags = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    c = count(labels, flags)
    assert (c.tp, c.fp, c.fn, c.tn) == (3, 1, 1, 5)
    assert c.precision == pytest.approx(0.75)
    assert c.recall == pytest.approx(0.75)
    assert c.f1 == pytest.approx(0.75)
    assert c.false_alarms_per_1000 == pytest.approx(1000 / 6)
    assert c.to_dict()["f1"] == 0.75


def test_undefined_ratios_are_zero_not_nan() -> None:
    silent = count(np.array([True, False]), np.array([False, False]))
    assert (silent.precision, silent.recall, silent.f1) == (0.0, 0.0, 0.0)
    nothing = count(np.zeros(3, dtype=bool), np.zeros(3, dtype=bool))
    assert nothing.recall == 0.0 and nothing.false_alarms_per_1000 == 0.0


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="differ"):
        count(np.zeros(3, dtype=bool), np.zeros(4, dtype=bool))
