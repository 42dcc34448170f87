"""Files under tests/samples/shopify: vendor samples, own variants, golden files."""

import json
from decimal import Decimal
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "shopify"


def sample_bytes(name: str) -> bytes:
    """Exact bytes of ``<name>.json``."""
    return (SAMPLES / f"{name}.json").read_bytes()


def sample_json(name: str):
    return json.loads(sample_bytes(name).decode("utf-8"))


def expected_json(name: str):
    """The golden result ``<name>.expected.json``."""
    return json.loads((SAMPLES / f"{name}.expected.json").read_text(encoding="utf-8"))


def computed_total(order: dict) -> Decimal:
    """What the canonical lines and shipping add up to, to the cent.

    Per line: price x quantity - discount, plus its taxes unless prices include
    them; the same for each shipping line.
    """
    included = order["taxes_included"]
    total = Decimal(0)
    for line in order["lines"]:
        total += line["price_unit"] * line["quantity"] - line["discount_amount"]
        if not included:
            total += sum((tax["amount"] for tax in line["taxes"]), Decimal(0))
    for shipping in order["shipping"]:
        total += shipping["price"] - shipping["discount_amount"]
        if not included:
            total += sum((tax["amount"] for tax in shipping["taxes"]), Decimal(0))
    return total.quantize(Decimal("0.01"))
