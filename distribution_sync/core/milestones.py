"""Order milestones: the steps of an order's life and when each is late.

A step's SLA runs from its *anchor*, the step that must come first (shipped is
due 24 h after confirmed). A step is ``late`` when it was reached after its due
date, or is still not reached when the due date has passed; ``on_time`` when
reached by then (or reached with no SLA); else ``pending``.
"""

from datetime import datetime

# (code, label, anchor step, default SLA in working-day hours; 0 = none)
STEPS = (
    ("received", "Received", None, 0),
    ("confirmed", "Confirmed", "received", 4),
    ("shipped", "Shipped", "confirmed", 24),
    ("delivered", "Delivered", "shipped", 72),
    # Distributors invoice what left the warehouse: an invoice made before
    # shipping (prepaid orders) is simply on time.
    ("invoiced", "Invoiced", "shipped", 24),
    ("paid", "Paid", "invoiced", 720),
    ("accounted", "Accounted", "invoiced", 24),
)
STEP_SELECTION = [(code, label) for code, label, _anchor, _hours in STEPS]
ANCHORS = {code: anchor for code, _label, anchor, _hours in STEPS}
DEFAULT_SLA_HOURS = {code: hours for code, _label, _anchor, hours in STEPS if hours}
STATES = [("pending", "Pending"), ("on_time", "On time"), ("late", "Late")]


def state(reached_at: datetime | None, due_at: datetime | None, now: datetime) -> str:
    """``pending``, ``on_time`` or ``late`` (see the module)."""
    if reached_at:
        return "late" if due_at and reached_at > due_at else "on_time"
    if due_at and now > due_at:
        return "late"
    return "pending"
