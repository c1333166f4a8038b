from __future__ import annotations

import numpy as np

from evaluation.tickets import ticket_windows


def test_the_generator_is_seeded_and_realistic() -> None:
    windows = ticket_windows(3, seed=7)
    again = ticket_windows(3, seed=7)
    assert len(windows) == 3 * 365
    assert all(np.array_equal(a.values, b.values) for a, b in zip(windows, again, strict=True))
    assert not np.array_equal(windows[0].values, ticket_windows(3, seed=8)[0].values)
    days = np.stack([w.values for w in windows])
    assert (days >= 0).all() and {w.kind for w in windows} == {"ticket"}
    profile = days.mean(axis=0)
    assert profile[38:44].mean() > 3 * profile[4:10].mean()  # evenings, not nights
    sold_out = (days[:, 40:44] == 0).all(axis=1).mean()  # the evening peak, sold out
    assert 0.01 < sold_out < 0.06
    burst = days[:, 20:24].sum(axis=1) / np.maximum(days.sum(axis=1), 1e-9)
    assert (burst > 0.5).mean() > 0.01  # on-sale mornings
