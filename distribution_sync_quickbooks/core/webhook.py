"""QuickBooks Online webhooks, pure: the signature and the entity changes a
delivery holds.

One POST serves every company connected to the app and may hold several
changes. Two body shapes exist (both signed alike, ``intuit-signature`` =
base64 HMAC-SHA256 of the raw body keyed with the app's verifier token):

- legacy: ``{"eventNotifications": [{"realmId", "dataChangeEvent":
  {"entities": [{"name", "id", "operation", "lastUpdated"}]}}]}``;
- CloudEvents: a JSON array of ``{"specversion", "id", "source", "type":
  "qbo.invoice.updated.v1", "time", "intuitentityid", "intuitaccountid",
  "data"}`` (a single event object is taken too).

A change carries ids only: the entity is read from QuickBooks afterwards.
"""

from .mappers import (
    PayloadError,
    as_list,
    as_object,
    header,
    invalid,
    key_path,
    load_json,
    missing,
    required_text,
    text,
)

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import canonical, idempotency, signature
else:
    from distribution_sync.core import canonical, idempotency, signature

SIGNATURE_HEADER = "intuit-signature"
FORMATS = ("legacy", "cloudevents")
OPERATIONS = ("Create", "Update", "Delete", "Void", "Merge", "Emailed")

# QuickBooks' entity names, found whatever the case (CloudEvents types are
# lower case: "qbo.creditmemo.created.v1").
ENTITIES = (
    "Account",
    "Attachable",
    "Bill",
    "BillPayment",
    "Budget",
    "Class",
    "CompanyInfo",
    "CreditMemo",
    "Currency",
    "Customer",
    "Department",
    "Deposit",
    "Employee",
    "Estimate",
    "Invoice",
    "Item",
    "JournalCode",
    "JournalEntry",
    "Payment",
    "PaymentMethod",
    "Preferences",
    "Purchase",
    "PurchaseOrder",
    "RefundReceipt",
    "SalesReceipt",
    "TaxAgency",
    "TaxCode",
    "TaxRate",
    "Term",
    "TimeActivity",
    "Transfer",
    "Vendor",
    "VendorCredit",
)
_ENTITY_KEYS = {name.lower(): name for name in ENTITIES}
# Verbs of CloudEvents types (and of legacy operations, any case).
_OPERATION_KEYS = {
    **{name.lower(): name for name in OPERATIONS},
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "voided": "Void",
    "merged": "Merge",
    "email": "Emailed",
}


def verify(secret, body: bytes, headers) -> bool:
    """True when ``intuit-signature`` (any case) is the base64 HMAC-SHA256 of
    the raw ``body`` keyed with ``secret`` (the app's verifier token),
    compared in constant time. False for an empty secret or no header."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return signature.verify_hmac(
        secret, bytes(body), header(headers, SIGNATURE_HEADER), encoding="base64"
    )


def entity_name(value):
    """QuickBooks' spelling of an entity name ("creditmemo" -> "CreditMemo");
    a name it does not list keeps its own spelling, capitalised."""
    key = value.replace("_", "").replace("-", "").lower()
    return _ENTITY_KEYS.get(key) or value[:1].upper() + value[1:]


def operation_name(value):
    """QuickBooks' operation name: "updated", "update" -> "Update"; another
    verb is kept, capitalised (QuickBooks may add some)."""
    return _OPERATION_KEYS.get(value.lower()) or value[:1].upper() + value[1:]


def _time(obj, key, path, *, required):
    value = obj.get(key)
    if value is None:
        if required:
            raise missing(key_path(path, key))
        return None
    return canonical.clean_datetime(value, key_path(path, key))


def _legacy(data):
    changes = []
    notifications = data.get("eventNotifications")
    if notifications is None:
        raise missing("eventNotifications")
    for index, notification in enumerate(as_list(notifications, "eventNotifications")):
        path = f"eventNotifications[{index}]"
        notification = as_object(notification, path)
        realm = required_text(notification, "realmId", path)
        event_path = key_path(path, "dataChangeEvent")
        event = as_object(notification.get("dataChangeEvent"), event_path)
        entities_path = key_path(event_path, "entities")
        for position, entity in enumerate(
            as_list(event.get("entities"), entities_path)
        ):
            entity_path = f"{entities_path}[{position}]"
            entity = as_object(entity, entity_path)
            name = required_text(entity, "name", entity_path)
            entity_id = required_text(entity, "id", entity_path)
            operation = required_text(entity, "operation", entity_path)
            last_updated = required_text(entity, "lastUpdated", entity_path)
            occurred_at = _time(entity, "lastUpdated", entity_path, required=True)
            changes.append(
                {
                    "realm_id": realm,
                    "entity": entity_name(name),
                    "entity_id": entity_id,
                    "operation": operation_name(operation),
                    "occurred_at": occurred_at,
                    # The dedupe key Intuit gives for this shape; hashed when
                    # long, so that it always fits an index.
                    "event_id": idempotency.message_key(
                        realm, name, entity_id, operation, last_updated
                    ),
                    "format": "legacy",
                    "deleted_id": text(entity, "deletedId", entity_path),
                }
            )
    return changes


def _cloud_event(event, path):
    event = as_object(event, path)
    event_type = required_text(event, "type", path)
    parts = event_type.split(".")
    if len(parts) < 3 or parts[0].lower() != "qbo" or not parts[1] or not parts[2]:
        raise invalid(
            key_path(path, "type"),
            f"{event_type!r} is not a QuickBooks event type "
            "(qbo.<entity>.<operation>.v1).",
            event_type,
        )
    return {
        "realm_id": required_text(event, "intuitaccountid", path),
        "entity": entity_name(parts[1]),
        "entity_id": required_text(event, "intuitentityid", path),
        "operation": operation_name(parts[2]),
        "occurred_at": _time(event, "time", path, required=False),
        "event_id": idempotency.message_key(required_text(event, "id", path)),
        "format": "cloudevents",
        "deleted_id": None,
    }


def events(data) -> list[dict]:
    """The entity changes of a delivery (parsed JSON, or its raw bytes), in
    order, one dict each: ``realm_id``, ``entity`` (QuickBooks' name:
    "Invoice", "CreditMemo"), ``entity_id``, ``operation`` ("Create",
    "Update", "Delete", "Void", "Merge", "Emailed"), ``occurred_at`` (aware
    UTC; None when a CloudEvent has no ``time``), ``event_id`` (the dedupe
    key: the CloudEvent ``id``; legacy ``realm:name:id:operation:lastUpdated``;
    a SHA-256 form when longer than 180 characters), ``format`` ("legacy" or
    "cloudevents") and ``deleted_id`` (legacy ``deletedId`` of a merge).
    ``PayloadError`` naming the path of a bad key."""
    data = load_json(data, "webhook body")
    if isinstance(data, list):
        return [_cloud_event(event, f"[{index}]") for index, event in enumerate(data)]
    if isinstance(data, dict) and "specversion" in data:
        return [_cloud_event(data, "")]
    if isinstance(data, dict):
        return _legacy(data)
    raise PayloadError(
        "A QuickBooks webhook body is an object (eventNotifications) or a list "
        f"of CloudEvents, not {type(data).__name__}.",
        value=repr(data)[:100],
    )
