"""Shopify order (REST resource, i.e. the ``orders/*`` webhook body) -> canonical order.

The result is what ``canonical.parse_order`` returns, so the shared Odoo importer
takes it as is. Rules:

* Ids: ``exact_id`` (GraphQL id first, see ``common.exact_id``) for the order,
  its lines and its customer.
* Money set: ``"shop"`` books the shop amounts (``*_set.shop_money``, else the
  plain REST field) in the shop ``currency``; ``"presentment"`` books
  ``*_set.presentment_money`` amounts in the buyer's ``presentment_currency``. A
  presentment amount missing from a payload whose two currencies differ is an
  error, never silently the shop amount.
* Discounts: Shopify allocates every discount, line-level or order-level, to the
  lines in ``discount_allocations`` (and to shipping lines in theirs). Those sums
  become ``discount_amount``; ``total_discounts`` and ``discount_applications``
  are not applied again.
* Taxes: each ``tax_lines`` entry becomes ``{name, rate, amount}`` with ``rate``
  in percent (Shopify's 0.06 -> 6), which is what the importer compares with an
  Odoo percentage tax. Entries with a zero rate and a zero amount carry no tax
  and are left out, so that they need no Odoo tax.
* Dates: ``ordered_at`` is ``processed_at`` (the order date Shopify shows and
  reports on, in the past for orders imported from another platform), else
  ``created_at``; both and ``cancelled_at`` become aware UTC datetimes.
* Quantities: ``current_quantity`` (ordered minus removed and refunded units)
  wins when present: such lines are booked at that quantity, lines whose current
  quantity is 0 are left out, and their discount and tax amounts are scaled to
  the remaining units. The expected ``total`` is then ``current_total_price``.
  When no unit is left at all (a cancelled order), the order is booked as it was
  placed, so that it can be imported and then cancelled.
"""

from collections.abc import Mapping
from decimal import Decimal

from . import common
from ._base import canonical, money
from .common import (
    MoneyReader,
    as_list,
    as_object,
    check_money_set,
    exact_id,
    field,
    invalid,
    join_names,
    key_path,
    missing,
    optional_exact_id,
    require,
)

__all__ = ["exact_id", "map_order", "percent"]

_ONE = Decimal(1)


def unwrap(data, key):
    """``{"order": {...}}`` (REST GET envelope) -> the inner object."""
    if isinstance(data, Mapping) and len(data) == 1 and isinstance(data.get(key), dict):
        return data[key]
    return data


def percent(rate, path):
    """Shopify's tax rate (a fraction, 0.06) as a percentage Decimal (6)."""
    value = common.to_amount(rate, path) * 100
    value = value.normalize()
    if value.as_tuple().exponent > 0:
        value = value.quantize(_ONE)
    return value


def _scaled(amount, ratio):
    if ratio is None or not amount:
        return amount
    return money.round_money(amount * ratio)


def map_taxes(tax_lines, path, reader, ratio=None):
    taxes = []
    for index, tax in enumerate(as_list(tax_lines, path)):
        tax_path = f"{path}[{index}]"
        tax = as_object(tax, tax_path)
        rate = percent(require(tax, "rate", tax_path), key_path(tax_path, "rate"))
        amount = reader.get(tax, "price", tax_path)
        if not rate and not amount:
            continue
        taxes.append(
            {
                "name": field(tax, "title", tax_path),
                "rate": rate,
                "amount": _scaled(amount, ratio),
            }
        )
    return taxes


def _quantities(item, path):
    """(quantity to book, ratio to the ordered quantity or None)."""
    quantity_path = key_path(path, "quantity")
    ordered = common.to_amount(require(item, "quantity", path), quantity_path)
    current = item.get("current_quantity")
    if current is None:
        return ordered, None
    current = common.to_amount(current, key_path(path, "current_quantity"))
    if current == ordered:
        return ordered, None
    if current <= 0:
        return Decimal(0), Decimal(0)
    if not ordered:
        raise invalid(quantity_path, "is 0 but current_quantity is not.", ordered)
    return current, current / ordered


def _line(item, path, reader, use_current):
    """A canonical line; None when no unit is left (current quantity 0)."""
    item = as_object(item, path)
    if use_current:
        quantity, ratio = _quantities(item, path)
        if ratio == 0:
            return None
    else:
        quantity = common.to_amount(
            require(item, "quantity", path), key_path(path, "quantity")
        )
        ratio = None
    discount = reader.total(
        item.get("discount_allocations"),
        "amount",
        key_path(path, "discount_allocations"),
    )
    return {
        "external_id": exact_id(item, "LineItem", path),
        "sku": field(item, "sku", path),
        "name": field(item, "name", path)
        or join_names(item, ("title", "variant_title"), path),
        "quantity": quantity,
        "price_unit": reader.get(item, "price", path, required=True),
        "discount_amount": _scaled(discount, ratio),
        "taxes": map_taxes(
            item.get("tax_lines"), key_path(path, "tax_lines"), reader, ratio
        ),
    }


def _lines(order, reader):
    """(lines, booked on current quantities?)."""
    if order.get("line_items") is None:
        raise missing("line_items")
    items = as_list(order["line_items"], "line_items")
    if not items:
        raise invalid("line_items", "must contain at least one item.", items)
    numbered = [(item, f"line_items[{index}]") for index, item in enumerate(items)]
    current = [_line(item, path, reader, True) for item, path in numbered]
    kept = [line for line in current if line is not None]
    if kept:
        reduced = any(
            isinstance(item, Mapping)
            and item.get("current_quantity") is not None
            and item.get("current_quantity") != item.get("quantity")
            for item in items
        )
        return kept, reduced
    return [_line(item, path, reader, False) for item, path in numbered], False


def _shipping(order, reader, code_field):
    result = []
    for index, line in enumerate(
        as_list(order.get("shipping_lines"), "shipping_lines")
    ):
        path = f"shipping_lines[{index}]"
        line = as_object(line, path)
        title = field(line, "title", path)
        result.append(
            {
                "code": field(line, code_field, path) or title,
                "title": title,
                "price": reader.get(line, "price", path, required=True),
                "discount_amount": reader.total(
                    line.get("discount_allocations"),
                    "amount",
                    key_path(path, "discount_allocations"),
                ),
                "taxes": map_taxes(
                    line.get("tax_lines"), key_path(path, "tax_lines"), reader
                ),
            }
        )
    return result


def map_address(address, path):
    """A Shopify address -> canonical address keys (+ ``company``); None if empty."""
    if address is None:
        return None
    address = as_object(address, path)
    result = {
        "name": field(address, "name", path)
        or join_names(address, ("first_name", "last_name"), path),
        "street": field(address, "address1", path),
        "street2": field(address, "address2", path),
        "city": field(address, "city", path),
        "zip": field(address, "zip", path),
        "state_code": field(address, "province_code", path),
        "country_code": field(address, "country_code", path),
        "phone": field(address, "phone", path),
        "company": field(address, "company", path),
    }
    return result if any(result.values()) else None


def _customer(order):
    customer = order.get("customer")
    customer = as_object(customer, "customer") if customer is not None else {}
    default_address = customer.get("default_address")
    default_address = default_address if isinstance(default_address, Mapping) else {}
    billing = order.get("billing_address")
    billing = billing if isinstance(billing, Mapping) else {}
    return {
        "external_id": optional_exact_id(customer, "Customer", "customer"),
        "email": field(customer, "email", "customer")
        or field(order, "email")
        or field(order, "contact_email"),
        "phone": field(customer, "phone", "customer") or field(order, "phone"),
        "name": join_names(customer, ("first_name", "last_name"), "customer"),
        "company_name": field(default_address, "company", "customer.default_address")
        or field(billing, "company", "billing_address"),
        "is_company": False,
    }


def _datetime(order, key):
    value = order.get(key)
    return None if value is None else canonical.clean_datetime(value, key)


def map_order(order, *, money_set="shop", shipping_code_field="code"):
    """Map a Shopify order to the canonical order (``canonical.parse_order``'s result).

    ``money_set``: ``"shop"`` or ``"presentment"`` (see the module docstring).
    ``shipping_code_field``: the shipping line key used as the carrier code for
    the mapping table (``code`` by default, e.g. ``source`` or ``carrier_identifier``);
    the title is used when that key is empty. Raises the core's ``PayloadError``
    naming the Shopify path of a missing or malformed key.
    """
    check_money_set(money_set)
    order = as_object(unwrap(order, "order"), "")
    shop_currency = field(order, "currency")
    presentment_currency = field(order, "presentment_currency")
    if money_set == "presentment":
        currency = presentment_currency or shop_currency
    else:
        currency = shop_currency
    reader = MoneyReader(
        money_set,
        fallback=not presentment_currency
        or not shop_currency
        or presentment_currency.upper() == shop_currency.upper(),
    )
    lines, reduced = _lines(order, reader)
    total = reader.get(order, "total_price")
    if reduced:
        total = reader.get(order, "current_total_price", default=total)
    result = {
        "external_id": exact_id(order, "Order"),
        "name": order.get("name"),
        # The date Shopify shows on the order (set in the past for orders
        # imported from elsewhere); created_at when it is missing.
        "ordered_at": (
            _datetime(order, "processed_at") or _datetime(order, "created_at")
        ),
        "created_at": _datetime(order, "created_at"),
        "updated_at": order.get("updated_at"),
        "currency": currency,
        "taxes_included": order.get("taxes_included"),
        "financial_status": order.get("financial_status"),
        "total": total,
        "original_total": reader.get(order, "total_price"),
        "quantities": "current" if reduced else "ordered",
        "note": order.get("note"),
        "customer": _customer(order),
        "billing_address": map_address(order.get("billing_address"), "billing_address"),
        "shipping_address": map_address(
            order.get("shipping_address"), "shipping_address"
        ),
        "lines": lines,
        "shipping": _shipping(order, reader, shipping_code_field),
        "cancelled_at": _datetime(order, "cancelled_at"),
        "cancel_reason": field(order, "cancel_reason"),
    }
    return canonical.parse_order(result)
