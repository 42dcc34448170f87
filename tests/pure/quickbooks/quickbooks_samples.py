"""Files under tests/samples/quickbooks (genuine QuickBooks samples, own
inputs, golden files) and what QuickBooks makes of a payload.

A golden file ``<name>.expected.json`` holds what the pure layer makes of
``<name>.json`` (or ``.jsonl``) in ``canonical.to_jsonable`` form.
"""

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "quickbooks"
CENT = Decimal("0.01")


def sample_path(name: str) -> Path:
    """``name`` with its extension, or ``<name>.json``."""
    path = SAMPLES / name
    return path if path.suffix in (".json", ".jsonl") else SAMPLES / f"{name}.json"


def sample_bytes(name: str) -> bytes:
    return sample_path(name).read_bytes()


def sample_json(name: str):
    """Parsed JSON (Intuit's token answers start with a UTF-8 BOM)."""
    return json.loads(sample_bytes(name).decode("utf-8-sig"))


def records(name: str) -> list:
    """The QuickBooks entities of an Airbyte ``.jsonl`` record file."""
    lines = sample_path(f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["data"] for line in lines if line.strip()]


def expected_json(name: str):
    return json.loads((SAMPLES / f"{name}.expected.json").read_text(encoding="utf-8"))


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def contained(part, whole, path=""):
    """Where ``part`` is not in ``whole`` (every key of ``part`` with an equal
    value, numbers compared as numbers, lists item by item), as paths."""
    if isinstance(part, dict):
        if not isinstance(whole, dict):
            return [path or "."]
        problems = []
        for key, value in part.items():
            if key not in whole:
                problems.append(f"{path}.{key}: absent")
            else:
                problems += contained(value, whole[key], f"{path}.{key}")
        return problems
    if isinstance(part, list):
        if not isinstance(whole, list) or len(part) != len(whole):
            return [f"{path}: {part!r} is not {whole!r}"]
        problems = []
        for index, (mine, theirs) in enumerate(zip(part, whole, strict=True)):
            problems += contained(mine, theirs, f"{path}[{index}]")
        return problems
    if isinstance(part, (int, float)) and not isinstance(part, bool):
        same = isinstance(whole, (int, float)) and not isinstance(whole, bool)
        if same and Decimal(str(part)) == Decimal(str(whole)):
            return []
    elif part == whole:
        return []
    return [f"{path}: {part!r} is not {whole!r}"]


def quickbooks_answer(payload, entity_id, *, rates=None, customer_name=None):
    """The entity QuickBooks makes of a create ``payload`` (as its sandbox
    does in the genuine samples): line ids, a subtotal line, the tax (US: the
    ``TotalTax`` sent; elsewhere computed from ``rates`` {tax code: percent}
    on each code's lines, after the discount when ``ApplyTaxAfterDiscount``),
    ``TotalAmt`` and ``Balance``. Raises ``AssertionError`` where QuickBooks
    would refuse the payload (Qty x UnitPrice not making the Amount)."""
    rates = rates or {}
    answer = json.loads(json.dumps(payload))
    answer.update(
        Id=str(entity_id),
        SyncToken="0",
        domain="QBO",
        sparse=False,
        MetaData={
            "CreateTime": "2026-03-02T02:15:00-08:00",
            "LastUpdatedTime": "2026-03-02T02:15:00-08:00",
        },
    )
    answer["CustomerRef"] = dict(answer["CustomerRef"], name=customer_name or "C")
    lines, subtotal, discount = [], Decimal(0), Decimal(0)
    bases = {}
    for index, line in enumerate(answer["Line"], 1):
        line = dict(line, Id=str(index), LineNum=index)
        amount = Decimal(str(line["Amount"]))
        if line["DetailType"] == "SalesItemLineDetail":
            detail = line["SalesItemLineDetail"]
            if "Qty" in detail:
                made = Decimal(str(detail["Qty"])) * Decimal(str(detail["UnitPrice"]))
                assert cents(made) == amount, f"Amount calculation incorrect: {line}"
            subtotal += amount
            code = detail.get("TaxCodeRef", {}).get("value")
            bases[code] = bases.get(code, Decimal(0)) + amount
        elif line["DetailType"] == "DiscountLineDetail":
            discount += amount
        lines.append(line)
    items = [line for line in lines if line["DetailType"] != "DiscountLineDetail"]
    others = [line for line in lines if line["DetailType"] == "DiscountLineDetail"]
    subtotal_line = {
        "Amount": number(subtotal),
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    answer["Line"] = [*items, subtotal_line, *others]
    tax_detail = dict(answer.get("TxnTaxDetail") or {})
    if "TotalTax" in tax_detail:
        tax = Decimal(str(tax_detail["TotalTax"]))
    else:
        tax, tax_lines = Decimal(0), []
        for code, base in bases.items():
            if code not in rates:
                continue
            if answer.get("ApplyTaxAfterDiscount") and subtotal:
                base -= cents(discount * base / subtotal)
            line_tax = cents(base * Decimal(str(rates[code])) / 100)
            tax += line_tax
            tax_lines.append(
                {
                    "Amount": number(line_tax),
                    "DetailType": "TaxLineDetail",
                    "TaxLineDetail": {
                        "TaxRateRef": {"value": f"r{code}"},
                        "PercentBased": True,
                        "TaxPercent": rates[code],
                        "NetAmountTaxable": number(base),
                    },
                }
            )
        tax_detail = {"TotalTax": number(tax), "TaxLine": tax_lines}
    answer["TxnTaxDetail"] = tax_detail
    total = subtotal - discount + tax
    answer["TotalAmt"] = number(total)
    answer["Balance"] = number(total)
    return answer
