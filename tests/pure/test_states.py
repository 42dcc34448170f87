from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution_sync.core.retry import RetryPolicy
from distribution_sync.core.states import (
    FINAL_STATES,
    MESSAGE_STATES,
    OPEN_STATES,
    REPLAYABLE_STATES,
    RETRYABLE_STATES,
    TRANSITIONS,
    InvalidTransition,
    check_transition,
    state_after_failure,
)

STATES = [value for value, _label in MESSAGE_STATES]


def test_state_order_and_labels():
    assert MESSAGE_STATES == [
        ("received", "Received"),
        ("queued", "Queued"),
        ("done", "Done"),
        ("error", "Error"),
        ("dead", "Dead (retries exhausted)"),
        ("skipped", "Skipped"),
        ("blocked", "Blocked"),
    ]


def test_transitions_cover_exactly_the_states():
    assert set(TRANSITIONS) == set(STATES)
    for targets in TRANSITIONS.values():
        assert targets <= set(STATES)


def test_state_sets_are_known_states():
    for group in (RETRYABLE_STATES, REPLAYABLE_STATES, OPEN_STATES, FINAL_STATES):
        assert group <= set(STATES)
    assert not OPEN_STATES & FINAL_STATES


def test_retryable_and_replayable_states_can_be_requeued():
    for state in RETRYABLE_STATES | REPLAYABLE_STATES:
        check_transition(state, "queued")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("received", "queued"),
        ("queued", "done"),
        ("error", "dead"),
        ("done", "queued"),
        ("dead", "queued"),
        ("blocked", "done"),
    ],
)
def test_allowed_transitions(old, new):
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("done", "error"),
        ("done", "skipped"),
        ("dead", "done"),
        ("skipped", "done"),
        ("received", "dead"),
        ("blocked", "dead"),
        ("queued", "received"),
        ("queued", "nonsense"),
        ("nonsense", "queued"),
    ],
)
def test_rejected_transitions(old, new):
    with pytest.raises(InvalidTransition):
        check_transition(old, new)


def test_invalid_transition_is_value_error_with_labels():
    with pytest.raises(ValueError, match="Dead \\(retries exhausted\\)"):
        check_transition("dead", "done")


@pytest.mark.parametrize("state", STATES)
def test_same_state_is_noop(state):
    check_transition(state, state)


def test_new_record_may_start_anywhere_known():
    check_transition(False, "received")
    check_transition(None, "queued")
    with pytest.raises(InvalidTransition):
        check_transition(None, "bogus")


def test_every_state_reaches_a_final_state():
    for start in STATES:
        seen, todo = {start}, deque([start])
        while todo:
            for nxt in TRANSITIONS[todo.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert seen & FINAL_STATES, start


@given(
    start=st.sampled_from(STATES), choices=st.lists(st.integers(0, 100), max_size=40)
)
def test_random_walk_stays_in_known_states(start, choices):
    state = start
    for choice in choices:
        targets = sorted(TRANSITIONS[state])
        nxt = targets[choice % len(targets)]
        check_transition(state, nxt)
        assert nxt in TRANSITIONS
        state = nxt


@given(old=st.sampled_from(STATES), new=st.sampled_from(STATES))
def test_check_transition_matches_table(old, new):
    allowed = old == new or new in TRANSITIONS[old]
    try:
        check_transition(old, new)
    except InvalidTransition:
        assert not allowed
    else:
        assert allowed


def test_state_after_failure():
    policy = RetryPolicy(max_attempts=3)
    assert state_after_failure(True, 1, policy) == "queued"
    assert state_after_failure(True, 2, policy) == "queued"
    assert state_after_failure(True, 3, policy) == "dead"
    assert state_after_failure(False, 1, policy) == "error"
    assert state_after_failure(False, 3, policy) == "error"


@given(
    transient=st.booleans(), attempt=st.integers(1, 20), max_attempts=st.integers(1, 10)
)
def test_failure_states_are_reachable_from_queued(transient, attempt, max_attempts):
    state = state_after_failure(transient, attempt, RetryPolicy(max_attempts))
    check_transition("queued", state)
