"""Rules checked before a document is posted, with actionable failure messages.

The Odoo side builds a plain ``document`` dict (see ``validate``) and the rule dicts
from its configuration; other addons can add rules to ``RULES`` and ``RULE_TYPES``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .errors import ValidationFailed, format_number
from .money import money_compare, quantize_steps, round_money, to_decimal

SEVERITY_BLOCK = "block"
SEVERITY_WARN = "warn"
SEVERITIES = ((SEVERITY_BLOCK, "Block posting"), (SEVERITY_WARN, "Warn only"))

RULE_TYPES = [
    ("total_tolerance", "Document total matches the channel total"),
    ("lines_mapped", "Every line has a product"),
    ("partner_required", "Customer has the required data"),
    ("price_deviation", "Unit price close to the pricelist price"),
    ("max_amount", "Document total below a maximum"),
]

PARTNER_FIELD_LABELS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "street": "street",
    "street2": "second street line",
    "city": "city",
    "zip": "ZIP code",
    "state_code": "state",
    "country_code": "country",
    "vat": "tax ID",
}


@dataclass(frozen=True)
class RuleFailure:
    """One failed rule on one value."""

    code: str
    severity: str
    message: str
    value: object = None


@dataclass
class ValidationReport:
    """All failures of a validation run."""

    failures: list[RuleFailure] = field(default_factory=list)

    @property
    def blocking(self) -> list[RuleFailure]:
        return [f for f in self.failures if f.severity == SEVERITY_BLOCK]

    @property
    def warnings(self) -> list[RuleFailure]:
        return [f for f in self.failures if f.severity == SEVERITY_WARN]

    @property
    def ok(self) -> bool:
        """True when nothing blocks posting (warnings allowed)."""
        return not self.blocking

    def raise_if_blocking(self) -> None:
        """Raise ``ValidationFailed`` with the blocking failures, if any."""
        blocking = self.blocking
        if blocking:
            raise ValidationFailed(blocking)


def _rounding(document) -> str:
    return document.get("rounding") or "0.01"


def _amount(value, document) -> str:
    text = str(round_money(value, _rounding(document)))
    currency = document.get("currency")
    return f"{text} {currency}" if currency else text


def _price(value, document) -> str:
    # Unit prices may carry more decimals than the currency; never hide them.
    value = to_decimal(value)
    step = to_decimal(_rounding(document))
    if value.as_tuple().exponent > step.as_tuple().exponent:
        return str(round_money(value, step))
    return str(value)


def _line_label(line, index) -> str:
    return str(line.get("ref") or f"#{index + 1}")


def rule_total_tolerance(document, params):
    """The computed total equals the channel's total within ``tolerance``."""
    expected = document.get("expected_total")
    if expected is None:
        return []
    rounding = _rounding(document)
    computed = to_decimal(document.get("computed_total") or 0)
    tolerance = to_decimal(params.get("tolerance") or 0)
    difference = computed - to_decimal(expected)
    if money_compare(abs(difference), tolerance, rounding) <= 0:
        return []
    message = (
        f"Total {_amount(computed, document)} differs from the channel total "
        f"{_amount(expected, document)} by {round_money(abs(difference), rounding)} "
        f"(tolerance {round_money(tolerance, rounding)})."
    )
    return [(message, round_money(difference, rounding))]


def rule_lines_mapped(document, params):
    """Every line has a product."""
    failures = []
    for index, line in enumerate(document.get("lines") or []):
        if not line.get("product"):
            label = _line_label(line, index)
            failures.append(
                (
                    f"Line {label} has no product: map the SKU or create the product.",
                    line.get("ref"),
                )
            )
    return failures


def rule_partner_required(document, params):
    """The customer exists and has every field listed in ``fields``."""
    partner = document.get("partner")
    if not partner:
        return [("The document has no customer: set one, then retry.", None)]
    name = partner.get("name") or "(no name)"
    failures = []
    for field_name in params.get("fields") or ["email"]:
        value = partner.get(field_name)
        if value is None or (isinstance(value, str) and not value.strip()):
            label = PARTNER_FIELD_LABELS.get(field_name, field_name)
            failures.append((f'Customer "{name}" has no {label}.', field_name))
    return failures


def rule_price_deviation(document, params):
    """Unit prices deviate from the list price by at most ``percent``."""
    limit = to_decimal(params.get("percent", 10))
    failures = []
    for index, line in enumerate(document.get("lines") or []):
        list_price = line.get("list_price")
        price_unit = line.get("price_unit")
        if list_price is None or price_unit is None:
            continue
        list_price = to_decimal(list_price)
        if list_price == 0:
            continue
        price_unit = to_decimal(price_unit)
        deviation = (price_unit - list_price) / abs(list_price) * 100
        if abs(deviation) <= limit:
            continue
        shown = quantize_steps(abs(deviation), Decimal("0.1"), ROUND_HALF_UP)
        direction = "below" if deviation < 0 else "above"
        failures.append(
            (
                f"Line {_line_label(line, index)}: unit price "
                f"{_price(price_unit, document)} is {shown}% {direction} the "
                f"pricelist price {_price(list_price, document)} "
                f"(limit {format_number(limit)}%).",
                price_unit,
            )
        )
    return failures


def rule_max_amount(document, params):
    """The computed total does not exceed ``amount``."""
    if params.get("amount") is None:
        raise ValueError("The max_amount rule needs an 'amount' parameter.")
    maximum = to_decimal(params["amount"])
    total = to_decimal(document.get("computed_total") or 0)
    if money_compare(total, maximum, _rounding(document)) <= 0:
        return []
    message = (
        f"Total {_amount(total, document)} is above the maximum "
        f"{_amount(maximum, document)}: have it checked and post it manually, or "
        "raise the limit."
    )
    return [(message, total)]


RuleFunction = Callable[[dict, dict], list[tuple[str, object]]]

RULES: dict[str, RuleFunction] = {
    "total_tolerance": rule_total_tolerance,
    "lines_mapped": rule_lines_mapped,
    "partner_required": rule_partner_required,
    "price_deviation": rule_price_deviation,
    "max_amount": rule_max_amount,
}


def register_rule(code: str, label: str, function: RuleFunction) -> None:
    """Add a rule type (for other addons); the code must be new."""
    if code in RULES:
        raise ValueError(f"Validation rule {code!r} already exists.")
    RULES[code] = function
    RULE_TYPES.append((code, label))


def validate(document: dict, rules: Iterable[dict]) -> ValidationReport:
    """Run ``rules`` against ``document`` and collect the failures.

    Document: ``currency``, ``rounding``, ``expected_total`` (or None),
    ``computed_total``, ``lines`` (``ref``, ``product``, ``price_unit``,
    ``list_price``) and ``partner`` (name, email, street, city, zip, country_code).
    Rule: ``{"code", "severity" ("block" default), "params", "name"}``; ``name`` is
    for display only. Unknown codes or severities raise ``ValueError``.
    """
    failures = []
    for rule in rules:
        code = rule.get("code")
        function = RULES.get(code)
        if function is None:
            raise ValueError(f"Unknown validation rule {code!r}.")
        severity = rule.get("severity") or SEVERITY_BLOCK
        if severity not in (SEVERITY_BLOCK, SEVERITY_WARN):
            raise ValueError(f"Unknown severity {severity!r} for rule {code!r}.")
        for message, value in function(document, rule.get("params") or {}):
            failures.append(RuleFailure(code, severity, message, value))
    return ValidationReport(failures)
