from decimal import Decimal

import pytest

from distribution_sync.core.errors import ValidationFailed
from distribution_sync.core.validation import (
    RULE_TYPES,
    RULES,
    SEVERITY_BLOCK,
    SEVERITY_WARN,
    RuleFailure,
    ValidationReport,
    register_rule,
    validate,
)


def make_document(**overrides):
    document = {
        "currency": "USD",
        "rounding": "0.01",
        "expected_total": "123.45",
        "computed_total": "123.45",
        "lines": [
            {"ref": "SKU-1", "product": 11, "price_unit": "10", "list_price": "10"},
            {"ref": "SKU-2", "product": 12, "price_unit": "5.5", "list_price": None},
        ],
        "partner": {
            "name": "Jane",
            "email": "jane@example.com",
            "street": "1 Main St",
            "city": "Springfield",
            "zip": "12345",
            "country_code": "US",
        },
    }
    document.update(overrides)
    return document


def rule(code, severity=SEVERITY_BLOCK, **params):
    return {"code": code, "severity": severity, "params": params}


def test_rule_registry_matches_rule_types():
    assert [code for code, _ in RULE_TYPES][:5] == [
        "total_tolerance",
        "lines_mapped",
        "partner_required",
        "price_deviation",
        "max_amount",
    ]
    assert set(RULES) == {code for code, _ in RULE_TYPES}


def test_clean_document_passes_all_rules():
    report = validate(
        make_document(),
        [
            rule("total_tolerance"),
            rule("lines_mapped"),
            rule("partner_required", fields=["email", "street", "city"]),
            rule("price_deviation", percent="10"),
            rule("max_amount", amount="10000"),
        ],
    )
    assert report.ok
    assert report.failures == []
    report.raise_if_blocking()


def test_total_mismatch_message():
    report = validate(make_document(computed_total="120"), [rule("total_tolerance")])
    assert [f.message for f in report.failures] == [
        "Total 120.00 USD differs from the channel total 123.45 USD by 3.45 "
        "(tolerance 0.00)."
    ]
    assert report.failures[0].value == Decimal("-3.45")
    assert not report.ok


def test_total_within_currency_rounding():
    report = validate(
        make_document(computed_total="123.454"), [rule("total_tolerance")]
    )
    assert report.ok


def test_total_tolerance_parameter():
    document = make_document(computed_total="123.40")
    assert validate(document, [rule("total_tolerance", tolerance="0.05")]).ok
    assert not validate(document, [rule("total_tolerance", tolerance="0.04")]).ok


def test_total_without_channel_total_is_skipped():
    document = make_document(expected_total=None, computed_total="1")
    assert validate(document, [rule("total_tolerance")]).ok


def test_unmapped_line_message():
    lines = [
        {"ref": "SKU-1", "product": 1, "price_unit": "1"},
        {"ref": "SKU-9", "product": None, "price_unit": "1"},
        {"product": False, "price_unit": "1"},
    ]
    report = validate(make_document(lines=lines), [rule("lines_mapped")])
    assert [f.message for f in report.failures] == [
        "Line SKU-9 has no product: map the SKU or create the product.",
        "Line #3 has no product: map the SKU or create the product.",
    ]
    assert report.failures[0].value == "SKU-9"


def test_partner_default_requires_email():
    partner = {"name": "Jane", "email": "  "}
    report = validate(make_document(partner=partner), [rule("partner_required")])
    assert [f.message for f in report.failures] == ['Customer "Jane" has no email.']


def test_partner_required_fields():
    partner = {"name": "Jane", "email": "j@x.com", "city": "", "country_code": None}
    report = validate(
        make_document(partner=partner),
        [rule("partner_required", fields=["email", "street", "city", "country_code"])],
    )
    assert [f.message for f in report.failures] == [
        'Customer "Jane" has no street.',
        'Customer "Jane" has no city.',
        'Customer "Jane" has no country.',
    ]
    assert [f.value for f in report.failures] == ["street", "city", "country_code"]


def test_missing_partner():
    report = validate(make_document(partner=None), [rule("partner_required")])
    assert len(report.failures) == 1
    assert "no customer" in report.failures[0].message


def test_price_deviation_message():
    lines = [{"ref": "SKU-1", "product": 1, "price_unit": "8", "list_price": "10"}]
    report = validate(
        make_document(lines=lines), [rule("price_deviation", percent="10")]
    )
    assert [f.message for f in report.failures] == [
        "Line SKU-1: unit price 8.00 is 20.0% below the pricelist price 10.00 "
        "(limit 10%)."
    ]
    assert report.failures[0].value == Decimal("8")


def test_price_deviation_above_and_precision_kept():
    lines = [{"ref": "A", "product": 1, "price_unit": "1.125", "list_price": "1"}]
    report = validate(
        make_document(lines=lines), [rule("price_deviation", percent="7.5")]
    )
    assert report.failures[0].message == (
        "Line A: unit price 1.125 is 12.5% above the pricelist price 1.00 (limit 7.5%)."
    )


def test_price_deviation_boundary_and_skips():
    lines = [
        {"ref": "edge", "product": 1, "price_unit": "9", "list_price": "10"},
        {"ref": "no-list", "product": 1, "price_unit": "1", "list_price": None},
        {"ref": "zero-list", "product": 1, "price_unit": "1", "list_price": "0"},
    ]
    report = validate(
        make_document(lines=lines), [rule("price_deviation", percent="10")]
    )
    assert report.ok
    lines[0]["price_unit"] = "8.99"
    report = validate(
        make_document(lines=lines), [rule("price_deviation", percent="10")]
    )
    assert [f.value for f in report.failures] == [Decimal("8.99")]


def test_max_amount():
    document = make_document(computed_total="10000.004")
    assert validate(document, [rule("max_amount", amount="10000")]).ok
    document = make_document(computed_total="12000")
    report = validate(document, [rule("max_amount", amount="10000")])
    assert report.failures[0].message.startswith(
        "Total 12000.00 USD is above the maximum 10000.00 USD"
    )
    with pytest.raises(ValueError):
        validate(document, [rule("max_amount")])


def test_warnings_do_not_block():
    report = validate(
        make_document(computed_total="120"),
        [rule("total_tolerance", severity=SEVERITY_WARN)],
    )
    assert report.ok
    assert len(report.warnings) == 1
    assert report.blocking == []
    report.raise_if_blocking()


def test_raise_if_blocking_only_blocking_failures():
    report = validate(
        make_document(computed_total="120", partner={"name": "Jane"}),
        [rule("total_tolerance"), rule("partner_required", severity=SEVERITY_WARN)],
    )
    with pytest.raises(ValidationFailed) as info:
        report.raise_if_blocking()
    assert [f.code for f in info.value.failures] == ["total_tolerance"]
    assert "has no email" not in str(info.value)


def test_validation_failed_joins_all_blocking_messages():
    report = ValidationReport(
        [RuleFailure("a", "block", "One."), RuleFailure("b", "block", "Two.")]
    )
    with pytest.raises(ValidationFailed, match=r"^One\.; Two\.$"):
        report.raise_if_blocking()


def test_unknown_rule_and_severity():
    with pytest.raises(ValueError, match="Unknown validation rule"):
        validate(make_document(), [{"code": "nope"}])
    with pytest.raises(ValueError, match="Unknown severity"):
        validate(make_document(), [{"code": "lines_mapped", "severity": "fatal"}])


def test_default_severity_blocks():
    report = validate(make_document(partner=None), [{"code": "partner_required"}])
    assert report.failures[0].severity == SEVERITY_BLOCK


def test_register_rule():
    def rule_has_note(document, params):
        return [] if document.get("note") else [("Add a note.", None)]

    register_rule("test_has_note", "Has a note", rule_has_note)
    try:
        report = validate(make_document(), [{"code": "test_has_note"}])
        assert [f.message for f in report.failures] == ["Add a note."]
        with pytest.raises(ValueError):
            register_rule("test_has_note", "again", rule_has_note)
    finally:
        RULES.pop("test_has_note")
        RULE_TYPES.remove(("test_has_note", "Has a note"))
