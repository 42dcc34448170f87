"""Message state machine: which state may follow which, and where failures lead."""

from .retry import RetryPolicy

MESSAGE_STATES = [
    ("received", "Received"),
    ("queued", "Queued"),
    ("done", "Done"),
    ("error", "Error"),
    ("dead", "Dead (retries exhausted)"),
    ("skipped", "Skipped"),
    ("blocked", "Blocked"),
]
STATE_LABELS = dict(MESSAGE_STATES)

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"queued", "skipped", "error", "blocked", "done"}),
    # A queued message is worked on inside its job's transaction: nobody else
    # sees it half-way, so there is no "processing" state to show.
    "queued": frozenset({"skipped", "error", "dead", "blocked", "done"}),
    "error": frozenset({"queued", "dead", "skipped", "done", "blocked"}),
    "blocked": frozenset({"queued", "skipped", "done", "error"}),
    "dead": frozenset({"queued"}),
    # Finished messages only move again when someone replays them.
    "done": frozenset({"queued"}),
    "skipped": frozenset({"queued"}),
}

RETRYABLE_STATES = frozenset({"error", "dead", "blocked"})
REPLAYABLE_STATES = frozenset({"done", "skipped", "error", "dead", "blocked"})
OPEN_STATES = frozenset({"received", "queued"})
FINAL_STATES = frozenset({"done", "skipped"})


class InvalidTransition(ValueError):
    """A state change the state machine does not allow."""

    def __init__(self, old, new):
        self.old = old
        self.new = new
        super().__init__(
            f"A message cannot go from {STATE_LABELS.get(old, old)!r} "
            f"to {STATE_LABELS.get(new, new)!r}."
        )


def check_transition(old, new) -> None:
    """Raise ``InvalidTransition`` unless ``old -> new`` is allowed.

    Staying in the same state is a no-op. A falsy ``old`` (a record being created)
    may start in any known state.
    """
    if new not in TRANSITIONS:
        raise InvalidTransition(old, new)
    if not old or old == new:
        return
    if new not in TRANSITIONS.get(old, ()):
        raise InvalidTransition(old, new)


def state_after_failure(
    error_is_transient: bool, attempt: int, policy: RetryPolicy
) -> str:
    """State after failed attempt number ``attempt``.

    Transient with retries left -> "queued"; transient and exhausted -> "dead";
    permanent -> "error" (a person has to act, retrying would fail the same way).
    """
    if not error_is_transient:
        return "error"
    return "dead" if policy.exhausted(attempt) else "queued"
