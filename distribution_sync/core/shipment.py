"""The canonical shipment request, channel-neutral, and its checks.

A carrier channel turns it into its vendor's request (EasyPost: ounces and
inches); the Odoo side builds it from a picking or a sale order::

    {"reference": str, "is_return": bool, "label_format": "PDF"|"PNG"|"ZPL",
     "from_address": ADDRESS, "to_address": ADDRESS,
     "parcel": {"weight_kg": Decimal > 0,
                "length_cm", "width_cm", "height_cm": all three or none}}

    ADDRESS = {"name", "company", "street", "street2", "city", "state",
               "zip", "country" (ISO 3166-1 alpha-2), "phone", "email"}

``validate_shipment`` lists what a person must fix before anything is bought.
"""

from collections.abc import Mapping

from . import canonical, errors

LABEL_FORMATS = ("PDF", "PNG", "ZPL")
DEFAULT_LABEL_FORMAT = "PDF"
DIMENSION_KEYS = ("length", "width", "height")
REQUIRED_ADDRESS_KEYS = (
    ("street", "street"),
    ("city", "city"),
    ("zip", "ZIP / postal code"),
    ("country", "country"),
)
ADDRESS_ROLES = (
    ("from_address", "sender address (the warehouse)"),
    ("to_address", "delivery address"),
)


def is_blank(value):
    """Nothing given (Odoo reads an empty field as False)."""
    return (
        value is None
        or value is False
        or (isinstance(value, str) and not value.strip())
    )


def _number(value):
    """A finite Decimal, or None when ``value`` is none."""
    if is_blank(value):
        return None
    try:
        return canonical.clean_decimal(value, "")
    except errors.SyncError:
        return None


def _sentence_list(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _parcel_problems(parcel):
    if not isinstance(parcel, Mapping):
        return ["The package is missing: give at least its weight."]
    problems = []
    weight = parcel.get("weight_kg")
    number = _number(weight)
    if is_blank(weight) or number == 0:
        problems.append(
            "The package has no weight: set the weight of the products or of "
            "the package."
        )
    elif number is None:
        problems.append(f"The package weight {weight!r:.40} is not a number.")
    elif number < 0:
        problems.append(f"The package weight must be more than 0 kg, not {weight}.")
    given = []
    for key in DIMENSION_KEYS:
        value = parcel.get(f"{key}_cm")
        number = _number(value)
        if is_blank(value) or number == 0:
            continue
        if number is None or number < 0:
            problems.append(f"The package {key} {value!r:.40} is not a length in cm.")
        given.append(key)
    if given and len(given) < len(DIMENSION_KEYS):
        problems.append(
            "The package dimensions are incomplete: give its length, width and "
            "height, or none of them."
        )
    return problems


def _address_problems(address, noun):
    if not isinstance(address, Mapping):
        return [f"The {noun} is missing."]
    missing = [
        label for key, label in REQUIRED_ADDRESS_KEYS if is_blank(address.get(key))
    ]
    if missing:
        return [f"The {noun} has no {_sentence_list(missing)}."]
    country = str(address.get("country")).strip()
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        return [f"The {noun} country {country!r:.40} is not a two-letter ISO code."]
    return []


def validate_shipment(shipment) -> list:
    """The problems to fix before anything is bought, as sentences an
    order-desk person can act on (missing or zero weight, incomplete
    dimensions, an address without street, city, ZIP or country, an unknown
    label format); an empty list when the request can be sent. Never raises."""
    if not isinstance(shipment, Mapping):
        return ["The shipment request is not an object."]
    problems = _parcel_problems(shipment.get("parcel"))
    for key, noun in ADDRESS_ROLES:
        problems += _address_problems(shipment.get(key), noun)
    label_format = shipment.get("label_format")
    if not is_blank(label_format) and (
        not isinstance(label_format, str) or label_format.upper() not in LABEL_FORMATS
    ):
        problems.append(
            f"The label format {label_format!r:.40} is not one of "
            f"{', '.join(LABEL_FORMATS)}."
        )
    return problems
