"""Code mappings between a channel and Odoo, and unit/pack-size conversion."""

from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from .errors import FractionalQuantity, MappingMissing
from .money import quantize_steps, to_decimal

__all__ = [
    "MAPPING_TYPES",
    "ROUNDING_POLICIES",
    "MappingTable",
    "convert_quantity",
    "normalize_code",
    "to_decimal",
]

MAPPING_TYPES = [
    ("uom", "Unit of measure / pack size"),
    ("tax", "Tax"),
    ("status", "Status code"),
    ("carrier", "Carrier / service"),
    ("payment_method", "Payment method / journal"),
    ("country", "Country"),
    ("state", "State / province"),
    ("payment_term", "Payment term"),
    ("product", "Product alias"),
]
MAPPING_TYPE_LABELS = dict(MAPPING_TYPES)

ROUNDING_POLICIES = (
    ("exact", "Exact (fractional result is an exception)"),
    ("half_up", "Round half up"),
    ("up", "Round up"),
    ("down", "Round down"),
)
# Ceiling/floor rather than away-from/towards zero, so that "up" never yields less
# than the exact result, returns (negative quantities) included.
_ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}


def normalize_code(code) -> str:
    """Comparable form of an external code: stripped, case-folded, single spaces."""
    if code is None:
        return ""
    return " ".join(str(code).split()).casefold()


def convert_quantity(quantity, factor=1, *, rounding="1", policy="exact") -> Decimal:
    """Return ``quantity * factor`` as a multiple of ``rounding``.

    A result already on the grid is returned at the rounding's exponent
    (``Decimal('12')`` for rounding "1"). Otherwise policy "exact" raises
    ``FractionalQuantity`` and "half_up", "up" (ceiling) and "down" (floor) round to
    the nearest multiple accordingly.
    """
    if policy != "exact" and policy not in _ROUNDING_MODES:
        raise ValueError(f"Unknown rounding policy {policy!r}.")
    step = to_decimal(rounding)
    if step <= 0:
        raise ValueError(f"Rounding must be greater than zero, got {rounding!r}.")
    quantity_d = to_decimal(quantity)
    factor_d = to_decimal(factor)
    result = quantity_d * factor_d
    steps = result / step
    if steps == steps.to_integral_value():
        return quantize_steps(result, step, ROUND_HALF_UP)
    if policy == "exact":
        raise FractionalQuantity(quantity_d, factor_d, result)
    return quantize_steps(result, step, _ROUNDING_MODES[policy])


class MappingTable:
    """In-memory lookup of (mapping type, external code) -> Odoo value.

    Codes are compared in their ``normalize_code`` form, so "Case 12" and "CASE 12"
    are the same code; two entries that normalise alike are rejected.
    """

    def __init__(self, entries: Iterable[tuple[str, str, object]]):
        self._values: dict[tuple[str, str], object] = {}
        for mapping_type, code, value in entries:
            key = (mapping_type, normalize_code(code))
            if not key[1]:
                raise ValueError(
                    f"Empty external code in a {self._label(mapping_type)} mapping."
                )
            if key in self._values:
                raise ValueError(
                    f'Two {self._label(mapping_type)} mappings for the code "{code}"; '
                    "codes are compared ignoring case and spacing, keep only one."
                )
            self._values[key] = value

    @staticmethod
    def _label(mapping_type) -> str:
        return MAPPING_TYPE_LABELS.get(mapping_type, mapping_type).lower()

    def get(self, mapping_type: str, code, default=None):
        """Mapped value, or ``default`` when there is none."""
        return self._values.get((mapping_type, normalize_code(code)), default)

    def lookup(self, mapping_type: str, code):
        """Mapped value; raises ``MappingMissing`` when there is none."""
        key = (mapping_type, normalize_code(code))
        if key not in self._values:
            raise MappingMissing(mapping_type, code)
        return self._values[key]

    def __contains__(self, item) -> bool:
        mapping_type, code = item
        return (mapping_type, normalize_code(code)) in self._values

    def __len__(self) -> int:
        return len(self._values)
