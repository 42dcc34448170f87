"""Shopify refund (``refunds/create`` webhook body) -> the core's canonical refund
(``canonical.parse_refund``), which the shared importer turns into a credit note.

Amounts follow the order's tax mode: with ``taxes_included`` a line ``subtotal``
and the ``shipping`` amount include their tax (``total_tax`` / ``shipping_tax``
is the part of it that is tax), otherwise the tax comes on top.

Shipping refunds arrive in one of three shapes, used in this order so that none
is counted twice (since API 2024-10 Shopify may send both of the first two for
the same refund):

1. ``refund_shipping_lines[].subtotal_amount_set`` (API 2024-10 and later);
2. ``order_adjustments`` of kind ``shipping_refund``: their ``amount`` is
   negative and excludes the tax, which is in ``tax_amount``;
3. ``shipping: {amount, tax}`` (the shape of the ``refunds/calculate`` answer).

``adjustments`` lists every order adjustment as sent (signs kept). Those of kind
``refund_discrepancy`` make ``discrepancy``: the amount (tax included) by which
the refund is smaller than its lines and shipping — negative when more was
refunded, e.g. an amount-only refund of 1.00 has no line and a discrepancy of
-1.00. Hence ``total = lines + shipping (+ their taxes unless included) -
discrepancy``, in ``currency``. ``transactions_total`` is what the successful
refund transactions moved, in ``transactions_currency`` (the currency the buyer
paid in).

A refund line without ``subtotal`` (payloads older than the field) is estimated
from its order line (price x quantity minus the discount and plus the tax
pro rata) and marked ``estimated``.
"""

from collections.abc import Mapping
from decimal import Decimal

from ._base import canonical, money
from .common import (
    MoneyReader,
    as_list,
    as_object,
    check_money_set,
    exact_id,
    field,
    gid_number,
    invalid,
    key_path,
    missing,
    plain_id,
    require,
    same_id,
    set_currency,
    text,
    to_amount,
)
from .order_mapper import unwrap

__all__ = ["map_refund"]

_ZERO = Decimal(0)
_SET_KEYS = ("subtotal_set", "total_tax_set", "subtotal_amount_set", "amount_set")


def _money_sets(refund):
    """Every ``*_set`` object of the refund's lines, shipping lines and adjustments."""
    for key in ("refund_line_items", "refund_shipping_lines", "order_adjustments"):
        items = refund.get(key)
        for item in items if isinstance(items, list) else ():
            if isinstance(item, Mapping):
                for set_key in _SET_KEYS:
                    if isinstance(item.get(set_key), Mapping):
                        yield item[set_key]


def _currencies(refund, order, money_set):
    """(currency of the amounts, may presentment amounts fall back to shop ones?)."""
    if order is not None:
        shop = field(order, "currency", "order")
        presentment = field(order, "presentment_currency", "order")
        same = not shop or not presentment or shop.upper() == presentment.upper()
        return (presentment or shop if money_set == "presentment" else shop), same
    currency = None
    same = True
    for money_set_value in _money_sets(refund):
        shop = set_currency(money_set_value, "shop")
        presentment = set_currency(money_set_value, "presentment")
        if shop and presentment and shop.upper() != presentment.upper():
            same = False
        currency = currency or set_currency(money_set_value, money_set)
    if currency is None and (same or money_set == "presentment"):
        # No money set at all (old payloads): the transactions' currency is the
        # buyer's, which is the shop's when nothing says otherwise.
        currency = _transactions_currency(refund)
    return currency, same


def _transactions_currency(refund):
    transactions = as_list(refund.get("transactions"), "transactions")
    for index, transaction in enumerate(transactions):
        if isinstance(transaction, Mapping):
            currency = field(transaction, "currency", f"transactions[{index}]")
            if currency:
                return currency
    return None


def _order_lines(order):
    """Order line items by id (exact and as sent), for lookups by ``line_item_id``."""
    result = {}
    if order is None:
        return result
    for index, item in enumerate(as_list(order.get("line_items"), "order.line_items")):
        if isinstance(item, Mapping):
            path = f"order.line_items[{index}]"
            result[exact_id(item, "LineItem", path)] = item
    return result


def _find_order_line(order_lines, line_id):
    for exact, item in order_lines.items():
        if same_id(exact, line_id):
            return exact, item
    return None, None


def _estimate(line_item, quantity, reader, path):
    """(subtotal, tax) of ``quantity`` units of an order line, pro rata."""
    ordered = to_amount(
        require(line_item, "quantity", path), key_path(path, "quantity")
    )
    if not ordered:
        raise invalid(key_path(path, "quantity"), "is 0: nothing to estimate from.", 0)
    ratio = quantity / ordered
    price = reader.get(line_item, "price", path, required=True)
    discount = reader.total(
        line_item.get("discount_allocations"),
        "amount",
        key_path(path, "discount_allocations"),
    )
    tax = reader.total(line_item.get("tax_lines"), "price", key_path(path, "tax_lines"))
    return (
        money.round_money(price * quantity - discount * ratio),
        money.round_money(tax * ratio),
    )


def _line(item, path, reader, order_lines, legacy_restock):
    item = as_object(item, path)
    nested = item.get("line_item")
    nested = nested if isinstance(nested, Mapping) and nested else None
    line_id = None
    if nested is not None and (
        nested.get("id") is not None
        or gid_number(nested.get("admin_graphql_api_id"), "LineItem")
    ):
        line_id = exact_id(nested, "LineItem", key_path(path, "line_item"))
    sent_id = plain_id(item.get("line_item_id"), key_path(path, "line_item_id"))
    if line_id is None:
        line_id = sent_id
    if line_id is None:
        raise missing(key_path(path, "line_item_id"))
    order_line_id, order_line = _find_order_line(order_lines, line_id)
    line_id = order_line_id or line_id
    source = nested or order_line or {}
    source_path = key_path(path, "line_item") if nested else "order.line_items"
    quantity = to_amount(require(item, "quantity", path), key_path(path, "quantity"))
    subtotal = reader.get(item, "subtotal", path)
    total_tax = reader.get(item, "total_tax", path)
    estimated = False
    if subtotal is None:
        if not source:
            raise missing(key_path(path, "subtotal"))
        subtotal, estimated_tax = _estimate(source, quantity, reader, source_path)
        if total_tax is None:
            total_tax = estimated_tax
        estimated = True
    # Refunds made with the deprecated ``restock`` flag have no restock_type;
    # Shopify reports them as "legacy_restock".
    restock_type = field(item, "restock_type", path) or (
        "legacy_restock" if legacy_restock else None
    )
    return {
        "external_id": plain_id(item.get("id"), key_path(path, "id")),
        "line_external_id": line_id,
        "sku": field(source, "sku", source_path),
        "name": field(source, "name", source_path)
        or field(source, "title", source_path),
        "quantity": quantity,
        "subtotal": subtotal,
        "total_tax": total_tax if total_tax is not None else _ZERO,
        "restock_type": restock_type,
        # Only items returned come back to stock (a return is prepared).
        "restock": restock_type == "return",
        "location_id": plain_id(item.get("location_id"), key_path(path, "location_id")),
        "estimated": estimated,
    }


def _adjustments(refund, reader):
    result = []
    items = as_list(refund.get("order_adjustments"), "order_adjustments")
    for index, item in enumerate(items):
        path = f"order_adjustments[{index}]"
        item = as_object(item, path)
        result.append(
            {
                "external_id": plain_id(item.get("id"), key_path(path, "id")),
                "kind": field(item, "kind", path),
                "amount": reader.get(item, "amount", path, default=_ZERO),
                "tax_amount": reader.get(item, "tax_amount", path, default=_ZERO),
                "reason": field(item, "reason", path),
            }
        )
    return result


def _shipping_line_tax(line, refunded, reader, path):
    """Tax of ``refunded`` out of a refunded shipping line, pro rata."""
    shipping_line = line.get("shipping_line")
    if not isinstance(shipping_line, Mapping):
        return _ZERO
    line_path = key_path(path, "shipping_line")
    tax = reader.total(
        shipping_line.get("tax_lines"), "price", key_path(line_path, "tax_lines")
    )
    price = reader.get(shipping_line, "discounted_price", line_path) or reader.get(
        shipping_line, "price", line_path
    )
    if not tax or not price:
        return _ZERO
    return money.round_money(tax * refunded / price)


def _shipping(refund, adjustments, reader, taxes_included):
    """(shipping amount, its tax, where it came from)."""
    shipping_adjustments = [a for a in adjustments if a["kind"] == "shipping_refund"]
    adjustment_tax = -sum((a["tax_amount"] for a in shipping_adjustments), _ZERO)
    lines = as_list(refund.get("refund_shipping_lines"), "refund_shipping_lines")
    if lines:
        amount = tax = _ZERO
        for index, line in enumerate(lines):
            path = f"refund_shipping_lines[{index}]"
            line = as_object(line, path)
            refunded = reader.get(line, "subtotal_amount", path, required=True)
            amount += refunded
            if not shipping_adjustments:
                tax += _shipping_line_tax(line, refunded, reader, path)
        if shipping_adjustments:
            tax = adjustment_tax
        return amount, tax, "refund_shipping_lines"
    if shipping_adjustments:
        amount = -sum((a["amount"] for a in shipping_adjustments), _ZERO)
        if taxes_included:
            amount += adjustment_tax
        return amount, adjustment_tax, "order_adjustments"
    shipping = refund.get("shipping")
    if isinstance(shipping, Mapping) and shipping.get("amount") is not None:
        amount = to_amount(shipping["amount"], "shipping.amount")
        tax = shipping.get("tax")
        tax = _ZERO if tax is None else to_amount(tax, "shipping.tax")
        return amount, tax, "shipping"
    return _ZERO, _ZERO, None


def _transactions_total(refund):
    total = _ZERO
    for index, transaction in enumerate(
        as_list(refund.get("transactions"), "transactions")
    ):
        path = f"transactions[{index}]"
        transaction = as_object(transaction, path)
        if (
            transaction.get("kind") == "refund"
            and transaction.get("status") == "success"
        ):
            total += to_amount(require(transaction, "amount", path), f"{path}.amount")
    return total


def _order_id(refund, order):
    sent = plain_id(refund.get("order_id"), "order_id")
    if order is None:
        if sent is None:
            raise missing("order_id")
        return sent
    exact = exact_id(order, "Order", "order")
    if sent is not None and not same_id(sent, exact):
        raise invalid(
            "order_id",
            f"{refund.get('order_id')!r} is not the order given ({exact}).",
            refund.get("order_id"),
        )
    return exact


def _datetime(refund, key):
    value = refund.get(key)
    return None if value is None else canonical.clean_datetime(value, key)


def map_refund(refund, order=None, *, money_set="shop", taxes_included=None):
    """Map a Shopify refund (optionally with its order) to a canonical refund
    (``canonical.parse_refund``'s result).

    ``order`` (the Shopify order, REST shape) gives the exact order and line ids,
    the currency, the tax mode and the lines to estimate from; without it
    ``taxes_included`` (default False) gives the tax mode. Keys: ``external_id``,
    ``order_id``, ``created_at``, ``processed_at``, ``note``, ``currency``,
    ``taxes_included``, ``lines`` (``line_external_id``, ``sku``, ``name``,
    ``quantity``, ``subtotal``, ``total_tax``, ``restock``, ``restock_type``,
    ...),
    ``lines_subtotal``, ``lines_tax``, ``shipping``, ``shipping_tax``,
    ``shipping_source``, ``adjustments``, ``discrepancy``, ``total``,
    ``transactions_total``, ``transactions_currency``, ``restock_return``,
    ``estimated``. Raises the core's ``PayloadError`` naming the path.
    """
    check_money_set(money_set)
    refund = as_object(unwrap(refund, "refund"), "")
    if order is not None:
        order = as_object(unwrap(order, "order"), "order")
        if taxes_included is None:
            taxes_included = order.get("taxes_included")
    taxes_included = bool(taxes_included)
    currency, same_currency = _currencies(refund, order, money_set)
    reader = MoneyReader(money_set, fallback=same_currency)
    order_lines = _order_lines(order)
    lines = [
        _line(
            item,
            f"refund_line_items[{index}]",
            reader,
            order_lines,
            refund.get("restock") is True,
        )
        for index, item in enumerate(
            as_list(refund.get("refund_line_items"), "refund_line_items")
        )
    ]
    adjustments = _adjustments(refund, reader)
    shipping, shipping_tax, shipping_source = _shipping(
        refund, adjustments, reader, taxes_included
    )
    lines_subtotal = sum((line["subtotal"] for line in lines), _ZERO)
    lines_tax = sum((line["total_tax"] for line in lines), _ZERO)
    discrepancy = sum(
        (
            a["amount"] + a["tax_amount"]
            for a in adjustments
            if a["kind"] == "refund_discrepancy"
        ),
        _ZERO,
    )
    total = lines_subtotal + shipping - discrepancy
    if not taxes_included:
        total += lines_tax + shipping_tax
    return canonical.parse_refund(
        {
            "external_id": exact_id(refund, "Refund"),
            "order_id": _order_id(refund, order),
            "created_at": _datetime(refund, "created_at"),
            "processed_at": _datetime(refund, "processed_at"),
            "note": text(refund.get("note"), "note", max_length=None),
            "currency": currency.upper() if currency else None,
            "taxes_included": taxes_included,
            "lines": lines,
            "lines_subtotal": lines_subtotal,
            "lines_tax": lines_tax,
            "shipping": shipping,
            "shipping_tax": shipping_tax,
            "shipping_source": shipping_source,
            "adjustments": adjustments,
            "discrepancy": discrepancy,
            "total": total,
            "transactions_total": _transactions_total(refund),
            "transactions_currency": _transactions_currency(refund),
            "restock_return": any(line["restock_type"] == "return" for line in lines),
            "estimated": any(line["estimated"] for line in lines),
        }
    )
