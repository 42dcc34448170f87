"""Shopify customer (``customers/create`` / ``customers/update`` body) -> partner data.

Only the keys the payload carries are returned in ``values`` (a key sent as null
gives None), like the reference channel, so that an update never blanks a field
the payload did not mention. The address keys come from ``default_address``.
"""

from collections.abc import Mapping

from ._base import canonical
from .common import as_object, exact_id, field, join_names, text
from .order_mapper import unwrap

__all__ = ["map_customer"]

# canonical key -> (Shopify key of the default address, parser)
ADDRESS_FIELDS = {
    "street": ("address1", canonical.clean_text),
    "street2": ("address2", canonical.clean_text),
    "city": ("city", canonical.clean_text),
    "zip": ("zip", canonical.clean_text),
    "country_code": ("country_code", canonical.clean_upper),
    "state_code": ("province_code", canonical.clean_text),
}


def _parsed(value, parser, path):
    value = text(value, path)
    return None if value is None else parser(value, path)


def map_customer(customer):
    """``{"external_id", "updated_at", "values": {name, email, phone, street,
    street2, city, zip, country_code, state_code}}`` (values: only keys present)."""
    customer = as_object(unwrap(customer, "customer"), "")
    values = {}
    if "first_name" in customer or "last_name" in customer:
        values["name"] = join_names(customer, ("first_name", "last_name"))
    if "email" in customer:
        values["email"] = _parsed(customer["email"], canonical.clean_email, "email")
    address = customer.get("default_address")
    address = address if isinstance(address, Mapping) else None
    if "phone" in customer:
        values["phone"] = field(customer, "phone")
    if address is not None:
        phone = field(address, "phone", "default_address")
        if not values.get("phone") and phone:
            values["phone"] = phone
        for key, (shopify_key, parser) in ADDRESS_FIELDS.items():
            if shopify_key in address:
                values[key] = _parsed(
                    address[shopify_key], parser, f"default_address.{shopify_key}"
                )
    updated_at = customer.get("updated_at")
    return {
        "external_id": exact_id(customer, "Customer"),
        "updated_at": None
        if updated_at is None
        else canonical.clean_datetime(updated_at, "updated_at"),
        "values": values,
    }
