"""QuickBooks Online documents, pure: what Odoo sends and how QuickBooks'
answers read back.

Outbound, from plain dicts the Odoo side prepares: ``customer_payload``,
``item_payload``, ``invoice_payload`` and ``credit_memo_payload`` (from a
canonical invoice of ``core.documents``). Amounts are JSON numbers made from
``Decimal`` (exact to the cent), so the payloads go through any JSON encoder.

Inbound, QuickBooks entities as the core's canonical forms: ``parse_invoice``
(an ``Invoice`` or a ``CreditMemo``) and ``parse_payment``, checked by
``documents.parse_invoice`` / ``parse_payment``; ``invoice_differences`` says in
sentences what QuickBooks changed compared with Odoo's invoice.

``request_id`` makes the ``requestid`` of one operation: QuickBooks answers a
repeated ``requestid`` with the first answer, so a create retried after a lost
answer never makes a second object.

Every reader raises ``PayloadError`` naming the path of the offending key
(``Line[2].SalesItemLineDetail.Qty``), or of the total it contradicts (the
message then names the keys involved), and never another exception.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, localcontext

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import (
        canonical,
        documents,
        errors,
        mapping,
        money,
        readers,
    )
else:
    from distribution_sync.core import (
        canonical,
        documents,
        errors,
        mapping,
        money,
        readers,
    )

PayloadError = errors.PayloadError

REQUEST_ID_PREFIX = "ds-"
# "ds-" + 32 hex digits: within the 36 characters a batch allows (50 otherwise).
REQUEST_ID_LENGTH = 35

# QuickBooks field limits.
MAX_DISPLAY_NAME = 500
MAX_ITEM_NAME = 100
MAX_SKU = 100
MAX_DOC_NUMBER = 21
MAX_DESCRIPTION = 4000
# Qty and UnitPrice keep at most 7 decimal places, line amounts 2.
PRICE_PLACES = 7
_PRICE_STEP = Decimal(1).scaleb(-PRICE_PLACES)

# Odoo product type -> QuickBooks item type ("consu" storable is "product").
ITEM_TYPES = {"product": "Inventory", "consu": "NonInventory", "service": "Service"}
# The date an Inventory item's QtyOnHand is counted at, when none is given:
# before any invoice, so that no sale predates the item.
INVENTORY_START_DATE = date(2000, 1, 1)

# Lines that only repeat or describe other lines.
NO_AMOUNT_LINES = ("SubTotalLineDetail", "DescriptionOnly")
LINKED_KINDS = {"Invoice": "invoice", "CreditMemo": "credit_note"}
# US companies: line tax codes.
US_TAXED, US_UNTAXED = "TAX", "NON"

_ZERO = Decimal(0)
_VOIDED_RE = re.compile(r"\bvoided\b", re.IGNORECASE)
_COLON_RE = re.compile(r"\s*:\s*")


# ------------------------------------------------------------------ readers
_MISSING_HINT = "Check what QuickBooks sent, or the data Odoo prepared."

# The core addon's readers, under the names the QuickBooks modules import.
key_path = readers.key_path
invalid = readers.invalid
as_object = readers.as_object
optional_object = readers.optional_object
as_list = readers.as_list
text = readers.text
required_text = readers.required_text
flag = readers.flag
header = readers.header


def missing(path):
    """The ``PayloadError`` of a missing required field, with what to check."""
    return readers.missing(path, _MISSING_HINT)


def odoo_text(obj, key, path, max_length=canonical.MAX_TEXT_LENGTH):
    """``text``, where ``False`` (an empty Odoo field) also means absent."""
    if obj.get(key) is False:
        return None
    return text(obj, key, path, max_length)


def amount(obj, key, path, *, required=False):
    """``obj[key]`` as a Decimal (JSON number or text), None when absent."""
    return readers.amount(obj, key, path, required=required, hint=_MISSING_HINT)


def ref(obj, key, path, *, required=False):
    """The ``value`` of a reference ``{"value": "17", "name": ...}``."""
    reference = optional_object(obj, key, path)
    if reference is None:
        if required:
            raise missing(key_path(path, key))
        return None
    ref_path = key_path(path, key)
    if required:
        return required_text(reference, "value", ref_path)
    return text(reference, "value", ref_path)


def ref_name(obj, key, path):
    reference = optional_object(obj, key, path)
    return None if reference is None else text(reference, "name", key_path(path, key))


def day(obj, key, path, *, required=False):
    """``obj[key]`` as a ``date`` ("YYYY-MM-DD"), None when absent."""
    value = obj.get(key)
    if value is None or value is False:
        if required:
            raise missing(key_path(path, key))
        return None
    return documents.clean_date(value, key_path(path, key))


def load_json(body, noun="answer"):
    """A JSON body as Python data: bytes (a UTF-8 BOM is allowed, Intuit's
    token answers have one) or text; data that is no text is returned as is.
    ``PayloadError`` when it is not JSON."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            body = bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PayloadError(f"The QuickBooks {noun} is not UTF-8 text.") from None
    if isinstance(body, str):
        try:
            return json.loads(body.lstrip("\ufeff"))
        except (ValueError, RecursionError):
            raise PayloadError(
                f"The QuickBooks {noun} is not JSON: {body.strip()[:80]!r}",
                value=body.strip()[:100],
            ) from None
    return body


def json_number(value):
    """A Decimal as the JSON number of the same digits: ``int`` when whole,
    else ``float`` (exact for amounts: below 10^12 with cents, a float prints
    back the same digits)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _places(value):
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _label(line, index):
    """How a sentence names a line: its number and its description or SKU."""
    name = line.get("description") or line.get("sku") or line.get("line_ref")
    name = " ".join(str(name).split())[:60] if name else None
    return f"line {index + 1} ({name})" if name else f"line {index + 1}"


def _money(value, rounding):
    return f"{money.round_money(value, rounding)}"


# ------------------------------------------------------------- request ids
def request_id(*parts) -> str:
    """The ``requestid`` of one operation: ``"ds-"`` and 32 hex digits of the
    SHA-256 of the parts (35 characters: QuickBooks allows 50, 36 in a batch).
    The same parts always give the same id, other parts another one; give
    what names the operation (database, record, operation, version).
    ``ValueError`` without parts."""
    if not parts:
        raise ValueError("A request id needs at least one part.")
    # A JSON list keeps ("a:b", "c") and ("a", "b:c") apart.
    key = json.dumps([str(part) for part in parts], ensure_ascii=True)
    digest = hashlib.sha256(key.encode("ascii")).hexdigest()
    return (REQUEST_ID_PREFIX + digest)[:REQUEST_ID_LENGTH]


# -------------------------------------------------------------- customers
def display_name(value, path="name", max_length=MAX_DISPLAY_NAME):
    """A name QuickBooks takes as ``DisplayName`` (or item ``Name``): one line,
    no ``:`` (it separates a sub-customer from its parent; ``"A: B"`` becomes
    ``"A - B"``), at most ``max_length`` characters; None when empty."""
    name = canonical.clean_text(value, path, max_length=None)
    if not name:
        return None
    name = " ".join(_COLON_RE.sub(" - ", name).split())
    return name[:max_length].rstrip() or None


ADDRESS_KEYS = (
    ("street", "Line1"),
    ("street2", "Line2"),
    ("city", "City"),
    ("state", "CountrySubDivisionCode"),
    ("zip", "PostalCode"),
    ("country", "Country"),
)


def customer_payload(partner: dict) -> dict:
    """A QuickBooks ``Customer`` from ``{"name", "email", "phone", "company",
    "street", "street2", "city", "state", "zip", "country", "currency"}``
    (absent, None or False: not sent). ``DisplayName`` is the name, else the
    company, else the email, made safe (``display_name``); ``PayloadError``
    when there is none."""
    partner = as_object(partner, "")
    name = odoo_text(partner, "name", "", max_length=None)
    company = odoo_text(partner, "company", "")
    email = odoo_text(partner, "email", "")
    phone = odoo_text(partner, "phone", "")
    chosen = name or company or email
    path = "name" if name else "company" if company else "email"
    display = display_name(chosen, path) if chosen else None
    if not display:
        raise PayloadError(
            "name: a QuickBooks customer needs a name, a company or an email.",
            path="name",
        )
    payload = {"DisplayName": display}
    if company:
        payload["CompanyName"] = company
    if email:
        payload["PrimaryEmailAddr"] = {"Address": email}
    if phone:
        payload["PrimaryPhone"] = {"FreeFormNumber": phone}
    address = {}
    for key, quickbooks_key in ADDRESS_KEYS:
        value = odoo_text(partner, key, "")
        if value:
            address[quickbooks_key] = value
    if address:
        payload["BillAddr"] = address
    currency = odoo_text(partner, "currency", "")
    if currency:
        payload["CurrencyRef"] = {"value": currency.upper()}
    return payload


# ------------------------------------------------------------------ items
def item_type(product: dict) -> str:
    """QuickBooks item type of ``product["type"]``: ``product`` (storable) ->
    ``Inventory``, ``consu`` -> ``NonInventory`` (``Inventory`` when
    ``is_storable`` is true, as Odoo 18 says), ``service`` -> ``Service``."""
    kind = odoo_text(product, "type", "")
    if kind is None:
        raise missing("type")
    result = ITEM_TYPES.get(kind.lower())
    if result is None:
        raise invalid("type", f"{kind!r} is not one of {', '.join(ITEM_TYPES)}.", kind)
    if result == "NonInventory" and (
        product.get("is_storable") is True or product.get("storable") is True
    ):
        result = "Inventory"
    return result


def _account(accounts, key, required):
    value = accounts.get(key)
    if value is None or value is False or value == "":
        if required:
            raise errors.MappingMissing(
                "account",
                key,
                hint=f"Set the QuickBooks {key} account for items on the backend, "
                "then retry.",
            )
        return None
    return {"value": canonical.clean_identifier(value, f"accounts.{key}")}


def item_payload(product: dict, accounts: dict) -> dict:
    """A QuickBooks ``Item`` from ``{"name", "sku", "type", "price", "cost"}``
    (and optionally ``description``, ``is_storable``, ``qty_on_hand``,
    ``start_date``) and ``accounts`` ``{"income", "expense", "asset"}``
    (QuickBooks account ids). ``Name`` is made safe like a display name (at
    most 100 characters), else the SKU. An ``Inventory`` item tracks its
    quantity (``QtyOnHand`` default 0 on ``InvStartDate``, default
    2000-01-01) and needs all three accounts, the others the income account:
    a missing one is ``MappingMissing("account", ...)``."""
    product = as_object(product, "")
    accounts = as_object({} if accounts is None else accounts, "accounts")
    kind = item_type(product)
    sku = odoo_text(product, "sku", "", max_length=MAX_SKU)
    raw_name = odoo_text(product, "name", "", max_length=None)
    name = display_name(raw_name, "name", MAX_ITEM_NAME) if raw_name else None
    name = name or (display_name(sku, "sku", MAX_ITEM_NAME) if sku else None)
    if not name:
        raise missing("name")
    payload = {"Name": name, "Type": kind}
    if sku:
        payload["Sku"] = sku
    description = odoo_text(product, "description", "", max_length=None)
    if description:
        payload["Description"] = description[:MAX_DESCRIPTION]
    price = amount(product, "price", "") if product.get("price") is not False else None
    payload["UnitPrice"] = json_number(price or _ZERO)
    cost = amount(product, "cost", "") if product.get("cost") is not False else None
    if cost is not None:
        payload["PurchaseCost"] = json_number(cost)
    inventory = kind == "Inventory"
    payload["IncomeAccountRef"] = _account(accounts, "income", True)
    for key, field in (("expense", "ExpenseAccountRef"), ("asset", "AssetAccountRef")):
        account = _account(accounts, key, inventory)
        if account and (inventory or key == "expense"):
            payload[field] = account
    if inventory:
        quantity = amount(product, "qty_on_hand", "") or _ZERO
        start = day(product, "start_date", "") or INVENTORY_START_DATE
        payload.update(
            TrackQtyOnHand=True,
            QtyOnHand=json_number(quantity),
            InvStartDate=start.isoformat(),
        )
    return payload


# --------------------------------------------------------- sales documents
def _canonical(invoice):
    """A canonical invoice, parsed (``documents.parse_invoice`` accepts its
    own output and its JSON form alike)."""
    return documents.parse_invoice(invoice)


def _items(refs):
    items = refs.get("items")
    items = as_object({} if items is None else items, "refs.items")
    return {str(key): value for key, value in items.items()}


def _tax_codes(refs):
    codes = refs.get("tax_codes")
    codes = as_object({} if codes is None else codes, "refs.tax_codes")
    return {mapping.normalize_code(key): (key, value) for key, value in codes.items()}


def _item_of(line, items):
    """(key, QuickBooks item id) of a line: by ``line_ref``, then ``sku``."""
    for key in (line["line_ref"], line["sku"]):
        if key is not None and items.get(key) not in (None, False, ""):
            return key, canonical.clean_identifier(items[key], f"refs.items.{key}")
    return None, None


def quantity_and_price(line, rounding="0.01"):
    """(Qty, UnitPrice) QuickBooks takes for a canonical line, so that Qty x
    UnitPrice makes its amount (QuickBooks checks it): the line's own when
    they do, else the net price (amount / quantity, 7 places: a discounted
    line); (None, None) when no 7-place price makes the amount (the line is
    then sent by amount only)."""
    quantity, price, total = line["quantity"], line["unit_price"], line["amount"]
    if _places(quantity) > PRICE_PLACES:
        return None, None
    with localcontext() as context:
        context.prec = 60
        if _places(price) <= PRICE_PLACES and money.money_equal(
            quantity * price, total, rounding
        ):
            return quantity, price
        if quantity:
            net = (total / quantity).quantize(_PRICE_STEP)
            if money.money_equal(quantity * net, total, rounding):
                return quantity, net.normalize()
    return None, None


def _taxed(line):
    """Whether a canonical line has a tax (``NON`` is QuickBooks' "none")."""
    code = line["tax_code"]
    return bool(code) and code.upper() != US_UNTAXED


def _line_tax(line, index, refs, tax_codes):
    code = line["tax_code"]
    if flag(refs, "us", "refs"):
        return US_TAXED if _taxed(line) else US_UNTAXED
    if not _taxed(line):
        return None
    found = tax_codes.get(mapping.normalize_code(code))
    if found is None or found[1] in (None, False, ""):
        raise errors.MappingMissing(
            "tax",
            code,
            hint=f"Map the Odoo tax {code} of {_label(line, index)} to a QuickBooks "
            "tax code, then retry.",
        )
    key, value = found
    return canonical.clean_identifier(value, f"refs.tax_codes.{key}")


def _item_line(line, index, item, refs, tax_codes, rounding):
    detail = {"ItemRef": {"value": item}}
    quantity, price = quantity_and_price(line, rounding)
    if quantity is not None:
        detail["Qty"] = json_number(quantity)
        detail["UnitPrice"] = json_number(price)
    tax = _line_tax(line, index, refs, tax_codes)
    if tax:
        detail["TaxCodeRef"] = {"value": tax}
    entry = {"DetailType": "SalesItemLineDetail", "Amount": json_number(line["amount"])}
    if line["description"]:
        entry["Description"] = line["description"][:MAX_DESCRIPTION]
    entry["SalesItemLineDetail"] = detail
    return entry


def _discount_line(lines, refs):
    """One ``DiscountLineDetail`` for the negative lines without an item (a
    transaction has one discount, applied to the lines above it)."""
    with localcontext() as context:
        context.prec = 60
        total = sum((line["amount"].copy_negate() for line in lines), _ZERO)
    detail = {"PercentBased": False}
    account = refs.get("discount_account")
    if account not in (None, False, ""):
        detail["DiscountAccountRef"] = {
            "value": canonical.clean_identifier(account, "refs.discount_account")
        }
    entry = {"DetailType": "DiscountLineDetail", "Amount": json_number(total)}
    names = [line["description"] or line["sku"] for line in lines]
    names = [name for name in names if name]
    if names:
        entry["Description"] = "; ".join(names)[:MAX_DESCRIPTION]
    entry["DiscountLineDetail"] = detail
    return entry


def _currency(body, currency, refs):
    """``CurrencyRef`` and, from ``refs``, ``ExchangeRate`` (home currency
    per unit of ``currency``) of a transaction ``body``."""
    if currency:
        body["CurrencyRef"] = {"value": currency.upper()}
    rate = amount(refs, "exchange_rate", "refs")
    if rate is not None:
        if rate <= 0:
            raise invalid(
                "refs.exchange_rate", f"must be more than 0, got {rate}.", str(rate)
            )
        body["ExchangeRate"] = json_number(rate)


def _header(invoice, refs, entity):
    body = {"CustomerRef": {"value": required_text(refs, "customer", "refs")}}
    number = invoice["number"]
    if number:
        if len(number) > MAX_DOC_NUMBER:
            raise invalid(
                "number",
                f"{number!r} is {len(number)} characters long; QuickBooks keeps "
                f"at most {MAX_DOC_NUMBER} in a document number.",
                number,
            )
        body["DocNumber"] = number
    if invoice["date"]:
        body["TxnDate"] = invoice["date"].isoformat()
    if entity == "Invoice" and invoice["due_date"]:
        body["DueDate"] = invoice["due_date"].isoformat()
    _currency(body, text(refs, "currency", "refs") or invoice["currency"], refs)
    terms = text(refs, "terms", "refs")
    if entity == "Invoice" and terms:
        body["SalesTermRef"] = {"value": terms}
    return body


def _sales_payload(invoice, refs, entity, move_type):
    invoice = _canonical(invoice)
    if invoice["move_type"] != move_type:
        raise invalid(
            "move_type",
            f"a QuickBooks {entity} is made of a {move_type}, "
            f"not a {invoice['move_type']}.",
            invoice["move_type"],
        )
    refs = as_object(refs, "refs")
    items, tax_codes = _items(refs), _tax_codes(refs)
    rounding = invoice["rounding"]
    lines, discounts = [], []
    for index, line in enumerate(invoice["lines"]):
        _key, item = _item_of(line, items)
        if item is None and line["amount"] < 0:
            discounts.append(line)
        elif item is None:
            raise PayloadError(
                f"refs.items: no QuickBooks item for {_label(line, index)} "
                f"(line_ref {line['line_ref']}, sku {line['sku']}).",
                path="refs.items",
                value=line["line_ref"] or line["sku"],
                hint="Send the product to QuickBooks first, or set the item for "
                "lines without a product on the backend.",
            )
        else:
            lines.append(_item_line(line, index, item, refs, tax_codes, rounding))
    body = _header(invoice, refs, entity)
    if discounts:
        lines.append(_discount_line(discounts, refs))
        # A taxed discount lowers the tax too: QuickBooks then taxes the
        # discounted amounts, as Odoo did.
        body["ApplyTaxAfterDiscount"] = any(_taxed(line) for line in discounts)
    body["Line"] = lines
    if flag(refs, "us", "refs"):
        tax_detail = {}
        txn_tax_code = text(refs, "txn_tax_code", "refs")
        if txn_tax_code:
            tax_detail["TxnTaxCodeRef"] = {"value": txn_tax_code}
        tax_detail["TotalTax"] = json_number(invoice["amount_tax"])
        body["TxnTaxDetail"] = tax_detail
    else:
        # Canonical line amounts are without tax.
        body["GlobalTaxCalculation"] = "TaxExcluded"
    return body


def invoice_payload(invoice: dict, refs: dict) -> dict:
    """A QuickBooks ``Invoice`` from a canonical invoice (``move_type``
    "invoice") and ``refs``: ``customer`` (QuickBooks customer id, required),
    ``items`` ({line_ref or sku: item id}), ``tax_codes`` ({Odoo tax code:
    QuickBooks tax code}, matched ignoring case and spacing), ``us`` (a US
    company: lines ``TAX``/``NON`` by whether they have a tax, and
    ``TxnTaxDetail`` with ``txn_tax_code`` and the invoice's tax), ``currency``
    (else the invoice's), ``exchange_rate``, ``terms`` (``SalesTermRef``) and
    ``discount_account`` (of the discount line).

    Each line with an item is a ``SalesItemLineDetail`` (``quantity_and_price``);
    the negative lines without an item make one ``DiscountLineDetail`` at the
    end (``ApplyTaxAfterDiscount`` when they are taxed). Outside the US each
    taxed line needs its mapped tax code (``MappingMissing("tax", code)``; no
    tax code or ``NON``: none sent) and taxes are computed excluded."""
    return _sales_payload(invoice, refs, "Invoice", "invoice")


def credit_memo_payload(invoice: dict, refs: dict) -> dict:
    """A QuickBooks ``CreditMemo`` from a canonical credit note (``move_type``
    "credit_note", positive amounts), as ``invoice_payload`` (no ``DueDate``,
    no terms: a credit memo has none)."""
    return _sales_payload(invoice, refs, "CreditMemo", "credit_note")


# ------------------------------------------------------ QuickBooks -> Odoo
# ---------------------------------------------------------------- payments
MAX_PAYMENT_REFERENCE = 21
_KIND_TXN = {kind: txn for txn, kind in LINKED_KINDS.items()}


def payment_payload(payment: dict, refs: dict) -> dict:
    """A QuickBooks ``Payment`` for an Odoo payment. ``payment``: ``amount``
    (what was received), ``date``, ``currency``, ``reference`` and
    ``applications`` ``[{"invoice_external_id", "amount", "kind"
    ("invoice" / "credit_note")}]``; ``refs``: ``customer`` (QuickBooks
    customer id), optional ``exchange_rate``. One line per application,
    linked to its invoice or credit memo; the invoices less the credit memos
    may not exceed the amount (QuickBooks keeps the rest unapplied)."""
    payment = as_object(payment, "payment")
    refs = as_object(refs, "refs")
    total = amount(payment, "amount", "payment", required=True)
    if total < 0:
        raise invalid("payment.amount", f"{total} is negative.", str(total))
    lines, applied = [], _ZERO
    applications = as_list(payment.get("applications"), "payment.applications")
    if not applications:
        raise missing("payment.applications")
    for index, application in enumerate(applications):
        path = f"payment.applications[{index}]"
        application = as_object(application, path)
        kind = text(application, "kind", path) or "invoice"
        if kind not in _KIND_TXN:
            raise invalid(key_path(path, "kind"), f"{kind!r} is not applied.", kind)
        value = amount(application, "amount", path, required=True)
        if value <= 0:
            raise invalid(key_path(path, "amount"), f"{value} is not positive.")
        applied += value.copy_negate() if kind == "credit_note" else value
        lines.append(
            {
                "Amount": json_number(value),
                "LinkedTxn": [
                    {
                        "TxnId": required_text(
                            application, "invoice_external_id", path
                        ),
                        "TxnType": _KIND_TXN[kind],
                    }
                ],
            }
        )
    if applied > total:
        raise invalid(
            "payment.applications",
            f"the invoices less the credit memos make {applied}, more than the "
            f"payment's {total}.",
            str(applied),
        )
    body = {
        "CustomerRef": {"value": required_text(refs, "customer", "refs")},
        "TotalAmt": json_number(total),
        "Line": lines,
    }
    if payment.get("date"):
        body["TxnDate"] = payment["date"].isoformat()
    _currency(body, text(payment, "currency", "payment"), refs)
    reference = text(payment, "reference", "payment")
    if reference:
        body["PaymentRefNum"] = reference[:MAX_PAYMENT_REFERENCE].rstrip()
    return body


def _unwrap(data, names):
    """``(entity, path)`` of an entity or of an answer ``{"Invoice": {...},
    "time": ...}`` (then paths start with ``Invoice``)."""
    data = as_object(data, "")
    if "Id" not in data:
        for name in names:
            if isinstance(data.get(name), Mapping):
                return data[name], name
    return data, ""


def _item_line_in(line, path, detail_key):
    detail = optional_object(line, detail_key, path) or {}
    detail_path = key_path(path, detail_key)
    total = amount(line, "Amount", path, required=True)
    quantity = amount(detail, "Qty", detail_path)
    price = amount(detail, "UnitPrice", detail_path)
    if quantity is None:
        quantity = Decimal(1)
    if price is None:
        with localcontext() as context:
            context.prec = 60
            price = total / quantity if quantity else total
        price = canonical.clean_decimal(price, key_path(detail_path, "Qty"))
    tax_code = ref(detail, "TaxCodeRef", detail_path)
    result = {
        "line_ref": text(line, "Id", path),
        "sku": None,
        "description": text(line, "Description", path, max_length=None),
        "quantity": quantity,
        "unit_price": price,
        "tax_code": None if tax_code == US_UNTAXED else tax_code,
        "amount": total,
    }
    item = ref(detail, "ItemRef", detail_path)
    if item is not None:
        result["channel_extra"] = {"item_ref": item}
    return result


def _discount_line_in(line, path):
    optional_object(line, "DiscountLineDetail", path)
    total = amount(line, "Amount", path, required=True).copy_negate()
    return {
        "line_ref": text(line, "Id", path),
        "sku": None,
        "description": text(line, "Description", path, max_length=None),
        "quantity": Decimal(1),
        "unit_price": total,
        "tax_code": None,
        "amount": total,
        "channel_extra": {"discount": True},
    }


def _lines_in(lines, path, depth=0):
    result = []
    for index, line in enumerate(as_list(lines, path)):
        line_path = f"{path}[{index}]"
        line = as_object(line, line_path)
        kind = line.get("DetailType")
        if kind in NO_AMOUNT_LINES:
            continue
        if kind == "GroupLineDetail" and depth == 0:
            # A bundle: its own amount is the sum of the lines inside.
            group = optional_object(line, "GroupLineDetail", line_path) or {}
            group_path = key_path(line_path, "GroupLineDetail")
            result += _lines_in(group.get("Line"), key_path(group_path, "Line"), 1)
        elif kind == "DiscountLineDetail":
            result.append(_discount_line_in(line, line_path))
        else:
            # Items, and any other line with an amount of its own.
            detail_key = kind if isinstance(kind, str) and kind else "Detail"
            result.append(_item_line_in(line, line_path, detail_key))
    return result


def _tax_lines_in(tax_detail, path):
    result = []
    lines_path = key_path(path, "TaxLine")
    for index, line in enumerate(as_list(tax_detail.get("TaxLine"), lines_path)):
        line_path = f"{lines_path}[{index}]"
        line = as_object(line, line_path)
        detail = optional_object(line, "TaxLineDetail", line_path) or {}
        detail_path = key_path(line_path, "TaxLineDetail")
        result.append(
            {
                "code": ref(detail, "TaxRateRef", detail_path, required=True),
                "rate": amount(detail, "TaxPercent", detail_path),
                "amount": amount(line, "Amount", line_path, required=True),
            }
        )
    return result


def _sum(values):
    with localcontext() as context:
        context.prec = 60
        return sum(values, _ZERO)


def _check_document(doc, path, noun):
    """The totals checks of ``documents.parse_invoice``, worded with
    QuickBooks' keys and blaming them (the canonical ones mean nothing to a
    person reading QuickBooks' data)."""
    line_sum = _sum(line["amount"] for line in doc["lines"])
    total, tax = doc["amount_total"], doc["amount_tax"]
    if not doc["lines"]:
        raise invalid(key_path(path, "Line"), f"the {noun} has no line with an amount.")
    if not money.money_equal(line_sum, doc["amount_untaxed"]):
        raise invalid(
            key_path(path, "Line"),
            f"the lines (Line[].Amount) add up to {line_sum}, but TotalAmt {total} "
            f"less TxnTaxDetail.TotalTax {tax} is {doc['amount_untaxed']}.",
        )
    tax_sum = _sum(line["amount"] for line in doc["taxes"])
    if doc["taxes"] and not money.money_equal(tax_sum, tax):
        raise invalid(
            key_path(path, "TxnTaxDetail"),
            f"the tax lines (TaxLine[].Amount) add up to {tax_sum}, "
            f"not TotalTax {tax}.",
        )
    if total < 0 and not money.money_equal(total, _ZERO):
        raise invalid(key_path(path, "TotalAmt"), f"{total} is negative.", str(total))
    residual = doc["amount_residual"]
    if residual < 0 and not money.money_equal(residual, _ZERO):
        raise invalid(key_path(path, "Balance"), f"{residual} is negative.")
    if residual > total and not money.money_equal(residual, total):
        raise invalid(
            key_path(path, "Balance"),
            f"{residual} is more than the total (TotalAmt) {total}.",
        )


def _parsed(parse, doc, path, noun):
    try:
        return parse(doc)
    except PayloadError as exc:
        # Left: a check the readers above do not make; name the entity.
        raise PayloadError(
            f"QuickBooks {noun}: {exc}", value=exc.value, hint=exc.hint, path=path
        ) from None


def parse_invoice(qbo: dict, move_type: str = "invoice") -> dict:
    """A QuickBooks ``Invoice`` (or, with ``move_type`` "credit_note", a
    ``CreditMemo``), or an answer holding one, as a canonical invoice:
    ``external_id`` ``Id``, ``number`` ``DocNumber``, ``date`` ``TxnDate``,
    ``due_date``, ``currency``, ``partner`` (``CustomerRef`` and
    ``BillEmail``), one line per item or discount line (a discount is a
    negative line; subtotal and description lines are left out, a bundle
    gives its lines; ``tax_code`` ``TAX`` or the line's code, ``NON`` being
    none; the QuickBooks item in ``channel_extra.item_ref``), ``taxes`` of
    ``TxnTaxDetail.TaxLine``, ``amount_total`` ``TotalAmt``, ``amount_tax``
    ``TotalTax``, ``amount_untaxed`` their difference, ``amount_residual``
    ``Balance`` (``RemainingCredit`` without), ``updated_at``
    ``MetaData.LastUpdatedTime``; ``channel_extra`` holds ``sync_token``,
    ``sales_term`` and ``exchange_rate``. State "voided" when QuickBooks voided
    it (total 0 and a private note saying "Voided"), else "posted"; a deleted
    one is the caller's."""
    if move_type not in documents.MOVE_TYPES:
        raise ValueError(f"Unknown move type {move_type!r}.")
    data, path = _unwrap(qbo, ("Invoice", "CreditMemo"))
    noun = "credit memo" if move_type == "credit_note" else "invoice"
    tax_path = key_path(path, "TxnTaxDetail")
    tax_detail = optional_object(data, "TxnTaxDetail", path) or {}
    total = amount(data, "TotalAmt", path, required=True)
    tax = amount(tax_detail, "TotalTax", tax_path) or _ZERO
    balance = amount(data, "Balance", path)
    if balance is None:
        balance = amount(data, "RemainingCredit", path)
    if balance is None:
        raise missing(key_path(path, "Balance"))
    note = text(data, "PrivateNote", path, max_length=None)
    voided = bool(note and _VOIDED_RE.search(note)) and total == 0
    email = optional_object(data, "BillEmail", path) or {}
    meta = optional_object(data, "MetaData", path) or {}
    with localcontext() as context:
        context.prec = 60
        untaxed = total - tax
    doc = {
        "external_id": required_text(data, "Id", path),
        "number": text(data, "DocNumber", path),
        "move_type": move_type,
        "state": "voided" if voided else "posted",
        "date": day(data, "TxnDate", path, required=True),
        "due_date": day(data, "DueDate", path),
        "currency": ref(data, "CurrencyRef", path),
        "partner": {
            "external_id": ref(data, "CustomerRef", path, required=True),
            "name": ref_name(data, "CustomerRef", path),
            "email": text(email, "Address", key_path(path, "BillEmail")),
        },
        "lines": _lines_in(data.get("Line"), key_path(path, "Line")),
        "taxes": _tax_lines_in(tax_detail, tax_path),
        "amount_untaxed": untaxed,
        "amount_tax": tax,
        "amount_total": total,
        "amount_residual": balance,
        "updated_at": _time(meta, "LastUpdatedTime", key_path(path, "MetaData")),
        "channel_extra": {
            "sync_token": text(data, "SyncToken", path),
            "sales_term": ref_name(data, "SalesTermRef", path),
            "exchange_rate": amount(data, "ExchangeRate", path),
        },
    }
    _check_document(doc, path, noun)
    return _parsed(documents.parse_invoice, doc, path, noun)


def _time(obj, key, path):
    value = obj.get(key)
    if value is None:
        return None
    return canonical.clean_datetime(value, key_path(path, key))


def _application(line, path):
    line = as_object(line, path)
    links_path = key_path(path, "LinkedTxn")
    links = as_list(line.get("LinkedTxn"), links_path)
    if len(links) != 1:
        raise invalid(
            links_path,
            f"a payment line links to one invoice or credit memo, this one to "
            f"{len(links)} transactions.",
        )
    link_path = f"{links_path}[0]"
    link = as_object(links[0], link_path)
    kind = text(link, "TxnType", link_path)
    if kind not in LINKED_KINDS:
        raise invalid(
            key_path(link_path, "TxnType"),
            f"a payment applied to a {kind or 'transaction of no type'} is not "
            "read; record it by hand in Odoo.",
            kind,
        )
    value = amount(line, "Amount", path, required=True)
    if value < 0:
        raise invalid(key_path(path, "Amount"), f"{value} is negative.", str(value))
    return {
        "invoice_external_id": required_text(link, "TxnId", link_path),
        "amount": value,
        "kind": LINKED_KINDS[kind],
    }


def parse_payment(qbo: dict) -> dict:
    """A QuickBooks ``Payment`` (or an answer holding one) as a canonical
    payment: ``external_id`` ``Id``, ``date`` ``TxnDate``, ``amount``
    ``TotalAmt``, ``partner`` ``CustomerRef``, ``method``
    ``PaymentMethodRef.value``, ``deposit_account`` ``DepositToAccountRef.value``,
    ``unapplied_amount`` ``UnappliedAmt``, one application per ``Line`` (its
    ``LinkedTxn``: an ``Invoice`` is kind "invoice", a ``CreditMemo``
    "credit_note"; another type is a ``PayloadError``), ``updated_at``;
    ``channel_extra`` holds ``sync_token`` and ``reference``
    (``PaymentRefNum``)."""
    data, path = _unwrap(qbo, ("Payment",))
    lines_path = key_path(path, "Line")
    applications = [
        _application(line, f"{lines_path}[{index}]")
        for index, line in enumerate(as_list(data.get("Line"), lines_path))
    ]
    total = amount(data, "TotalAmt", path, required=True)
    if total < 0:
        raise invalid(key_path(path, "TotalAmt"), f"{total} is negative.", str(total))
    unapplied = amount(data, "UnappliedAmt", path) or _ZERO
    if unapplied < 0:
        raise invalid(key_path(path, "UnappliedAmt"), f"{unapplied} is negative.")
    applied = _sum(
        item["amount"].copy_negate()
        if item["kind"] == "credit_note"
        else item["amount"]
        for item in applications
    )
    if not money.money_equal(_sum((applied, unapplied)), total):
        raise invalid(
            lines_path,
            f"the invoices less the credit memos (Line[].Amount) make {applied}, "
            f"and with UnappliedAmt {unapplied} not TotalAmt {total}.",
        )
    meta = optional_object(data, "MetaData", path) or {}
    doc = {
        "external_id": required_text(data, "Id", path),
        "date": day(data, "TxnDate", path, required=True),
        "currency": ref(data, "CurrencyRef", path),
        "amount": total,
        "partner": {
            "external_id": ref(data, "CustomerRef", path, required=True),
            "name": ref_name(data, "CustomerRef", path),
        },
        "method": ref(data, "PaymentMethodRef", path),
        "deposit_account": ref(data, "DepositToAccountRef", path),
        "unapplied_amount": unapplied,
        "applications": applications,
        "updated_at": _time(meta, "LastUpdatedTime", key_path(path, "MetaData")),
        "channel_extra": {
            "sync_token": text(data, "SyncToken", path),
            "reference": text(data, "PaymentRefNum", path),
        },
    }
    return _parsed(documents.parse_payment, doc, path, "payment")


# -------------------------------------------------------------- differences
def _net_price(line):
    if not line["quantity"]:
        return line["unit_price"]
    with localcontext() as context:
        context.prec = 60
        return line["amount"] / line["quantity"]


def _line_changes(ours, theirs, index, rounding):
    changes = []
    if ours["quantity"] != theirs["quantity"]:
        changes.append(
            f"quantity {errors.format_number(theirs['quantity'])} in QuickBooks, "
            f"{errors.format_number(ours['quantity'])} in Odoo"
        )
    our_price, their_price = _net_price(ours), _net_price(theirs)
    if not money.money_equal(our_price, their_price, rounding):
        changes.append(
            f"unit price {_money(their_price, rounding)} in QuickBooks, "
            f"{_money(our_price, rounding)} in Odoo"
        )
    if not money.money_equal(ours["amount"], theirs["amount"], rounding):
        changes.append(
            f"amount {_money(theirs['amount'], rounding)} in QuickBooks, "
            f"{_money(ours['amount'], rounding)} in Odoo"
        )
    if not changes:
        return None
    label = _label(ours, index)
    return f"{label[0].upper()}{label[1:]}: {'; '.join(changes)}."


def _compare(subject, ours, theirs, rounding, currency, advice=""):
    """``<subject> 10.00 USD in QuickBooks and 9.00 USD in Odoo: 1.00 more in
    QuickBooks.``, None when equal within ``rounding``."""
    if money.money_equal(ours, theirs, rounding):
        return None
    unit = f" {currency}" if currency else ""
    with localcontext() as context:
        context.prec = 60
        delta = theirs - ours
    more = "more" if delta > 0 else "less"
    return (
        f"{subject} {_money(theirs, rounding)}{unit} in QuickBooks and "
        f"{_money(ours, rounding)}{unit} in Odoo: {_money(abs(delta), rounding)} "
        f"{more} in QuickBooks{advice}."
    )


def invoice_differences(odoo: dict, qbo: dict, rounding="0.01") -> list[str]:
    """What QuickBooks changed, in sentences, comparing Odoo's canonical
    invoice with ``parse_invoice`` of QuickBooks' (both parsed or in JSON
    form): the total, the tax, each line's quantity, unit price (net of
    discounts) and amount (lines paired in order; the negative lines, where
    discounts are, compared as one sum), lines added or removed. Amounts are
    equal within half a unit of ``rounding``; [] when nothing differs. The
    state (voided, deleted) is the caller's to say."""
    ours, theirs = _canonical(odoo), _canonical(qbo)
    rounding = canonical.clean_decimal(rounding, "rounding")
    if rounding <= 0:
        raise invalid("rounding", f"must be more than 0, got {rounding}.")
    currency = ours["currency"] or theirs["currency"]
    sentences = [
        _compare(
            "The total is",
            ours["amount_total"],
            theirs["amount_total"],
            rounding,
            currency,
        ),
        _compare(
            "The tax is",
            ours["amount_tax"],
            theirs["amount_tax"],
            rounding,
            currency,
            "; check the tax mapping",
        ),
    ]
    our_lines = [line for line in ours["lines"] if line["amount"] >= 0]
    their_lines = [line for line in theirs["lines"] if line["amount"] >= 0]
    for index, (mine, other) in enumerate(zip(our_lines, their_lines, strict=False)):
        sentences.append(_line_changes(mine, other, index, rounding))
    for index, line in enumerate(their_lines[len(our_lines) :], len(our_lines)):
        sentences.append(
            f"QuickBooks has a line Odoo has not: {_label(line, index)}, "
            f"{errors.format_number(line['quantity'])} for "
            f"{_money(line['amount'], rounding)}."
        )
    for index, line in enumerate(our_lines[len(their_lines) :], len(their_lines)):
        label = _label(line, index)
        sentences.append(
            f"{label[0].upper()}{label[1:]} of Odoo "
            f"({_money(line['amount'], rounding)}) is not in QuickBooks."
        )
    sentences.append(
        _compare(
            "The discounts (negative lines) come to",
            _sum(line["amount"] for line in ours["lines"] if line["amount"] < 0),
            _sum(line["amount"] for line in theirs["lines"] if line["amount"] < 0),
            rounding,
            currency,
        )
    )
    return [sentence for sentence in sentences if sentence]
