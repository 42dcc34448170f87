"""The stamp of the mappings in force, and JSON bodies indented for reading."""

import json
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution_sync.core.display import (
    NO_MAPPINGS,
    mapping_stamp,
    parse_mapping_stamp,
    pretty_json,
)

WHEN = datetime(2026, 12, 1, 14, 3, 7)


def test_no_mapping_no_stamp():
    assert mapping_stamp(0, None) is NO_MAPPINGS is None


def test_stamp_round_trip():
    assert mapping_stamp(3, WHEN) == "3@2026-12-01T14:03:07"
    assert parse_mapping_stamp("3@2026-12-01T14:03:07") == (3, WHEN)
    # Only archived mappings: none in force, the last change still told.
    assert parse_mapping_stamp(mapping_stamp(0, WHEN)) == (0, WHEN)


@pytest.mark.parametrize("stamp", [None, "", False, "0@-", "x@y", "3", "3@never"])
def test_stamps_that_say_nothing(stamp):
    assert parse_mapping_stamp(stamp) is None


@given(
    st.integers(min_value=1, max_value=10**6),
    st.datetimes(min_value=datetime(2000, 1, 1)),
)
def test_any_stamp_reads_back(count, when):
    when = when.replace(microsecond=0)
    assert parse_mapping_stamp(mapping_stamp(count, when)) == (count, when)


def test_json_indented():
    body = '{"b":1,"a":[1,{"c":"é"}]}'
    assert pretty_json(body) == json.dumps(
        json.loads(body), indent=2, ensure_ascii=False
    )
    assert "\n" in pretty_json(body)


@pytest.mark.parametrize("text", [None, "", "not json", "42", '"text"', "{broken"])
def test_what_is_no_json_object_stays_as_it_is(text):
    assert pretty_json(text) == (text or "")
