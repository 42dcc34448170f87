"""Exceptions carrying what a person needs to fix a failed sync.

Every error has a ``category`` (how the message inbox groups it), the offending
``value`` and a ``hint`` saying what to do. ``str(error)`` is the full message.
"""

from decimal import Decimal

# Lower-case nouns used inside sentences; the selection labels live in mapping.py
# (which imports this module, hence the separate table).
MAPPING_TYPE_NOUNS = {
    "uom": "unit of measure",
    "tax": "tax",
    "status": "status code",
    "carrier": "carrier / service",
    "payment_method": "payment method",
    "country": "country",
    "state": "state / province",
    "payment_term": "payment term",
    "product": "product alias",
}

# Exception categories (what the inbox groups by) and their default severity.
CATEGORIES = (
    ("mapping", "Mapping missing"),
    ("validation", "Validation"),
    ("conflict", "Ownership conflict"),
    ("transient", "Channel unreachable"),
    ("duplicate", "Duplicate"),
    ("reconciliation", "Reconciliation"),
    ("technical", "Technical"),
    ("delivery", "Delivery problem"),
    ("payload", "Bad data received"),
    ("configuration", "Configuration"),
)

# Categories where running the same work again cannot help: the data received
# stays as it is (payload), or nothing changes until somebody fixes a setting
# (configuration; the next scheduled run after the fix resolves it).
NOT_RETRYABLE_CATEGORIES = frozenset({"payload", "configuration"})

SEVERITY_BY_CATEGORY = {
    "mapping": "error",
    "validation": "error",
    "conflict": "warning",
    "transient": "critical",
    "duplicate": "warning",
    "reconciliation": "error",
    "technical": "critical",
    "delivery": "error",
    "payload": "error",
    "configuration": "critical",
}


def format_number(value) -> str:
    """Render a number without exponent or trailing zeros (Decimal 1.50 -> "1.5")."""
    if isinstance(value, Decimal) and value.is_finite():
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    return str(value)


def problem_summary(name, hint):
    """``name`` without the instruction ``hint`` it ends with, when it does:
    what is wrong, the instruction shown apart."""
    name = (name or "").strip()
    hint = (hint or "").strip()
    if hint and name.endswith(hint) and len(name) > len(hint):
        return name[: -len(hint)].rstrip(" .;:,-") + "."
    return name


def storable(text):
    """``text`` with what PostgreSQL cannot store escaped: a NUL character, an
    unpaired surrogate (both can come from a JSON payload: ``"\\u0000"``)."""
    return (
        text.replace("\x00", "\\x00")
        .encode("utf-8", "backslashreplace")
        .decode("utf-8")
    )


class SyncError(Exception):
    """Base of all sync errors; ``str(e)`` is the message.

    The message and a text ``value`` are made storable: they are written to
    the message and its exception, and often quote the payload.
    """

    category = "validation"

    def __init__(self, message, *, value=None, hint=""):
        message = storable(message)
        super().__init__(message)
        self.message = message
        self.value = storable(value) if isinstance(value, str) else value
        self.hint = hint or ""

    def __str__(self):
        return self.message


class MappingMissing(SyncError):
    """No mapping exists for an external code."""

    category = "mapping"
    default_hint = "Create it under Configuration > Mappings, then retry."

    def __init__(self, mapping_type, code, hint=""):
        self.mapping_type = mapping_type
        self.code = code
        hint = hint or self.default_hint
        noun = MAPPING_TYPE_NOUNS.get(mapping_type, mapping_type)
        super().__init__(
            f'No mapping for {noun} "{code}". {hint}', value=code, hint=hint
        )


class FractionalQuantity(SyncError):
    """A unit conversion produced a quantity that is not a whole number of units."""

    category = "mapping"

    def __init__(self, quantity, factor, result):
        self.quantity = quantity
        self.factor = factor
        self.result = result
        hint = "fix the pack-size mapping or the order."
        super().__init__(
            f"{format_number(quantity)} × {format_number(factor)} = "  # noqa: RUF001
            f"{format_number(result)} is not a whole number of units; {hint}",
            value=result,
            hint=hint,
        )


class ValidationFailed(SyncError):
    """One or more blocking validation rules failed."""

    category = "validation"

    def __init__(self, failures):
        self.failures = list(failures)
        super().__init__(
            "; ".join(failure.message for failure in self.failures),
            value=None,
            hint="Correct the document or the rule, then retry.",
        )


class OwnershipConflict(SyncError):
    """The channel changed fields that Odoo owns; nothing of them was applied."""

    category = "conflict"

    def __init__(self, entity, fields):
        self.entity = entity
        self.fields = tuple(sorted(fields))
        noun = "field" if len(self.fields) == 1 else "fields"
        super().__init__(
            f"Odoo owns {entity} {noun} {', '.join(self.fields)}; "
            "the change from the channel was not applied.",
            value=list(self.fields),
            hint="Make the change in Odoo, or change the ownership rule if the "
            "channel should own these fields.",
        )


class BindingConflict(SyncError):
    """An outside record is bound to another live Odoo record already.

    Waiting does not change that: it is an exception at once, never a retry.
    """

    category = "conflict"

    def __init__(self, model, external_id, bound_to):
        self.model = model
        self.external_id = external_id
        hint = (
            "If it moved, unlink the old binding under Sync > Bindings (or fix the "
            "Odoo record), then retry."
        )
        super().__init__(
            f"{model} {external_id} of the channel is bound to {bound_to} "
            f"already; it cannot also be bound to another record. {hint}",
            value=str(external_id),
            hint=hint,
        )


class PayloadError(SyncError):
    """Malformed or missing data in a payload; ``path`` names the key when known."""

    category = "payload"

    def __init__(self, message, *, value=None, hint="", path=None):
        super().__init__(message, value=value, hint=hint)
        self.path = path


class DocumentRefused(PayloadError):
    """The channel refused what Odoo sent (its answer says why) or Odoo's
    document lacks what the channel needs: the document is fixed in Odoo and
    sent again, hence a "validation" problem."""

    category = "validation"


class ConfigurationError(PayloadError):
    """A setting the work needs is missing or wrong (credentials, addresses):
    nothing changes until somebody fixes the backend."""

    category = "configuration"


class TransientError(SyncError):
    """A failure that should go away by itself (rate limit, outage, timeout)."""

    category = "transient"

    def __init__(self, message, *, value=None, hint="", retry_after=None):
        super().__init__(message, value=value, hint=hint)
        self.retry_after = retry_after


class DuplicateDocument(SyncError):
    """The document already exists (same external id or idempotency key)."""

    category = "duplicate"


class DeliveryProblem(SyncError):
    """The carrier reports a shipment it cannot deliver as planned (a failed
    delivery, a return to the sender); the message is the carrier's."""

    category = "delivery"
