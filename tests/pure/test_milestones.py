"""Milestone steps and states (distribution_sync/core/milestones.py)."""

from datetime import datetime

import pytest

from distribution_sync.core import milestones

NOW = datetime(2026, 12, 2, 12)
DUE = datetime(2026, 12, 2, 10)


@pytest.mark.parametrize(
    "reached, due, expected",
    [
        (None, None, "pending"),
        (None, datetime(2026, 12, 3), "pending"),
        (None, DUE, "late"),
        (datetime(2026, 12, 2, 9), DUE, "on_time"),
        (DUE, DUE, "on_time"),
        (datetime(2026, 12, 2, 11), DUE, "late"),
        (datetime(2026, 12, 2, 11), None, "on_time"),
    ],
)
def test_state(reached, due, expected):
    assert milestones.state(reached, due, NOW) == expected


def test_every_anchor_is_an_earlier_step():
    codes = [code for code, *_rest in milestones.STEPS]
    for code, anchor in milestones.ANCHORS.items():
        if anchor:
            assert codes.index(anchor) < codes.index(code)


def test_contract_steps():
    assert [code for code, _label in milestones.STEP_SELECTION] == [
        "received",
        "confirmed",
        "shipped",
        "delivered",
        "invoiced",
        "paid",
        "accounted",
    ]
