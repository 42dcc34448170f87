from decimal import Decimal

import pytest

from distribution_sync.core import errors
from distribution_sync.core.errors import (
    ConfigurationError,
    DuplicateDocument,
    FractionalQuantity,
    MappingMissing,
    OwnershipConflict,
    PayloadError,
    SyncError,
    TransientError,
    ValidationFailed,
    problem_summary,
)
from distribution_sync.core.mapping import MAPPING_TYPES
from distribution_sync.core.validation import RuleFailure


def test_sync_error_carries_message_value_hint():
    exc = SyncError("Bad thing", value=42, hint="Do this")
    assert str(exc) == "Bad thing"
    assert exc.value == 42
    assert exc.hint == "Do this"
    assert exc.category == "validation"


def test_sync_error_defaults():
    exc = SyncError("x")
    assert exc.value is None
    assert exc.hint == ""


@pytest.mark.parametrize(
    ("cls", "category"),
    [
        (SyncError, "validation"),
        (MappingMissing, "mapping"),
        (FractionalQuantity, "mapping"),
        (ValidationFailed, "validation"),
        (OwnershipConflict, "conflict"),
        (PayloadError, "payload"),
        (ConfigurationError, "configuration"),
        (TransientError, "transient"),
        (DuplicateDocument, "duplicate"),
    ],
)
def test_categories(cls, category):
    assert cls.category == category
    assert issubclass(cls, SyncError)


def test_mapping_missing_message():
    exc = MappingMissing("uom", "CASE12")
    assert str(exc) == (
        'No mapping for unit of measure "CASE12". '
        "Create it under Configuration > Mappings, then retry."
    )
    assert exc.mapping_type == "uom"
    assert exc.code == "CASE12"
    assert exc.value == "CASE12"
    assert exc.category == "mapping"
    assert "Configuration > Mappings" in exc.hint


def test_mapping_missing_custom_hint_and_unknown_type():
    exc = MappingMissing("custom_type", "X", hint="Ask the admin.")
    assert str(exc) == 'No mapping for custom_type "X". Ask the admin.'
    assert exc.hint == "Ask the admin."


def test_every_mapping_type_has_a_noun():
    assert {value for value, _label in MAPPING_TYPES} == set(errors.MAPPING_TYPE_NOUNS)


def test_fractional_quantity_message():
    exc = FractionalQuantity(3, Decimal("0.5"), Decimal("1.50"))
    assert str(exc) == (
        "3 × 0.5 = 1.5 is not a whole number of units; "
        "fix the pack-size mapping or the order."
    )
    assert exc.value == Decimal("1.50")
    assert exc.category == "mapping"


def test_validation_failed_joins_messages():
    failures = [
        RuleFailure("a", "block", "First problem."),
        RuleFailure("b", "block", "Second problem."),
    ]
    exc = ValidationFailed(failures)
    assert str(exc) == "First problem.; Second problem."
    assert exc.failures == failures


def test_ownership_conflict_sorts_fields():
    exc = OwnershipConflict("customer", {"phone", "email"})
    assert str(exc) == (
        "Odoo owns customer fields email, phone; "
        "the change from the channel was not applied."
    )
    assert exc.fields == ("email", "phone")
    assert exc.category == "conflict"


def test_transient_error_retry_after():
    exc = TransientError("Rate limited", retry_after=12)
    assert exc.retry_after == 12
    assert TransientError("x").retry_after is None


def test_payload_error_path():
    exc = PayloadError("Missing lines[0].quantity", path="lines[0].quantity")
    assert exc.path == "lines[0].quantity"
    assert str(exc) == "Missing lines[0].quantity"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.50"), "1.5"),
        (Decimal("100"), "100"),
        (Decimal("-0.0"), "0"),
        (3, "3"),
    ],
)
def test_format_number(value, text):
    assert errors.format_number(value) == text


def test_binding_conflict_is_a_conflict_that_says_what_to_do():
    error = errors.BindingConflict(
        "product.product", "gid://shopify/InventoryItem/7", "Mug"
    )
    assert error.category == "conflict"
    assert error.value == "gid://shopify/InventoryItem/7"
    assert "is bound to Mug already" in str(error)
    assert "unlink the old binding" in error.hint


def test_configuration_error_is_caught_as_a_payload_error():
    # Callers that catch PayloadError (a retry cannot help) still catch it.
    assert issubclass(ConfigurationError, PayloadError)


def test_new_categories_are_not_retryable_and_labelled():
    labels = dict(errors.CATEGORIES)
    assert labels["payload"] == "Bad data received"
    assert labels["configuration"] == "Configuration"
    assert errors.NOT_RETRYABLE_CATEGORIES == {"payload", "configuration"}
    assert set(errors.SEVERITY_BY_CATEGORY) == set(labels)


@pytest.mark.parametrize(
    ("name", "hint", "summary"),
    [
        # the instruction at the end is shown apart
        (
            'No mapping for product alias "X". Create it, then retry.',
            "Create it, then retry.",
            'No mapping for product alias "X".',
        ),
        ("Total differs; fix the order.", "fix the order.", "Total differs."),
        # no instruction, or one that is not the end of the name: unchanged
        ("The body is not JSON.", "", "The body is not JSON."),
        ("The body is not JSON.", "Ask the sender.", "The body is not JSON."),
        # a name that is only the instruction stays whole
        ("Retry.", "Retry.", "Retry."),
        (None, None, ""),
    ],
)
def test_problem_summary(name, hint, summary):
    assert problem_summary(name, hint) == summary


def test_mapping_missing_summary_leaves_the_hint_out():
    exc = MappingMissing("product", "SKU-1")
    summary = problem_summary(str(exc), exc.hint)
    assert summary == 'No mapping for product alias "SKU-1".'
    assert exc.hint not in summary
