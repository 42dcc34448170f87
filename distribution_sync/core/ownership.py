"""Who owns which data: decides what an inbound change may write and what to push."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .errors import OwnershipConflict, format_number

ENTITIES = (
    "customer",
    "product",
    "price",
    "stock",
    "order",
    "shipment",
    "invoice",
    "payment",
)
ENTITY_LABELS = {
    "customer": "Customer",
    "product": "Product",
    "price": "Price",
    "stock": "Stock",
    "order": "Order",
    "shipment": "Shipment",
    "invoice": "Invoice",
    "payment": "Payment",
}

OWNER_ODOO = "odoo"
OWNER_CHANNEL = "channel"
OWNERS = ((OWNER_ODOO, "Odoo"), (OWNER_CHANNEL, "Channel"))

POLICY_EXCEPTION = "exception"
POLICY_IGNORE = "ignore"
CONFLICT_POLICIES = (
    (POLICY_EXCEPTION, "Open a conflict exception"),
    (POLICY_IGNORE, "Ignore the change"),
)

_OWNER_VALUES = frozenset(value for value, _label in OWNERS)
_POLICY_VALUES = frozenset(value for value, _label in CONFLICT_POLICIES)


@dataclass(frozen=True)
class OwnershipRule:
    """Owner of an entity, or of one field of it when ``field`` is set."""

    entity: str
    owner: str
    field: str | None = None
    on_conflict: str = POLICY_EXCEPTION


@dataclass(frozen=True)
class InboundDecision:
    """Outcome of an inbound change.

    ``apply``, ``conflicts`` and ``ignored`` partition the changed fields; ``allowed``
    is False when a create is refused.
    """

    allowed: bool
    apply: frozenset[str]
    conflicts: frozenset[str]
    ignored: frozenset[str]

    @property
    def has_conflict(self) -> bool:
        return bool(self.conflicts)

    def raise_for_conflict(self, entity: str) -> None:
        """Raise ``OwnershipConflict`` naming the conflicting fields, if any."""
        if self.conflicts:
            raise OwnershipConflict(entity, self.conflicts)


def _check_entity(entity):
    if entity not in ENTITIES:
        raise ValueError(
            f"Unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}."
        )


def _check_owner(owner):
    if owner not in _OWNER_VALUES:
        raise ValueError(f"Unknown owner {owner!r}; expected 'odoo' or 'channel'.")


class OwnershipMatrix:
    """Ownership rules with field-level rules taking precedence over entity rules."""

    def __init__(self, rules: Iterable[OwnershipRule], default_owner: str = OWNER_ODOO):
        _check_owner(default_owner)
        self.default_owner = default_owner
        self._rules: dict[tuple[str, str | None], OwnershipRule] = {}
        for rule in rules:
            _check_entity(rule.entity)
            _check_owner(rule.owner)
            if rule.on_conflict not in _POLICY_VALUES:
                raise ValueError(
                    f"Unknown conflict policy {rule.on_conflict!r}; "
                    "expected 'exception' or 'ignore'."
                )
            if rule.field is not None and (
                not isinstance(rule.field, str) or not rule.field
            ):
                raise ValueError(f"Invalid field name {rule.field!r}.")
            key = (rule.entity, rule.field)
            if key in self._rules:
                target = f"field {rule.field!r} of " if rule.field else ""
                raise ValueError(
                    f"Two ownership rules for {target}{rule.entity!r}; keep only one."
                )
            self._rules[key] = rule

    def _rule(self, entity, field=None) -> OwnershipRule | None:
        _check_entity(entity)
        if field is not None:
            rule = self._rules.get((entity, field))
            if rule is not None:
                return rule
        return self._rules.get((entity, None))

    def owner_of(self, entity: str, field: str | None = None) -> str:
        """Owner of a field (field rule, else entity rule, else the default)."""
        rule = self._rule(entity, field)
        return rule.owner if rule else self.default_owner

    def policy_of(self, entity: str, field: str | None = None) -> str:
        """Conflict policy with the same precedence; "exception" by default."""
        rule = self._rule(entity, field)
        return rule.on_conflict if rule else POLICY_EXCEPTION

    def _has_field_rule(self, entity, field) -> bool:
        return (entity, field) in self._rules

    def decide_inbound(
        self, entity: str, changed_fields: Iterable[str], *, is_create: bool = False
    ) -> InboundDecision:
        """Split an inbound change into fields to apply, conflicts and ignored.

        Create: allowed only when the channel owns the entity; then every field is
        applied except those with an Odoo-owned field rule, which are ignored (there
        is nothing in Odoo to protect yet). When Odoo owns the entity the create is
        refused and every field is a conflict, or ignored under the entity's
        "ignore" policy. Update: channel-owned fields are applied, Odoo-owned ones
        are conflicts or ignored according to their policy; ``allowed`` is True.
        """
        fields = frozenset(changed_fields)
        apply, conflicts, ignored = set(), set(), set()
        if is_create:
            if self.owner_of(entity) == OWNER_CHANNEL:
                for field in fields:
                    if (
                        self._has_field_rule(entity, field)
                        and self.owner_of(entity, field) == OWNER_ODOO
                    ):
                        ignored.add(field)
                    else:
                        apply.add(field)
                allowed = True
            else:
                if self.policy_of(entity) == POLICY_EXCEPTION:
                    conflicts.update(fields)
                else:
                    ignored.update(fields)
                allowed = False
        else:
            _check_entity(entity)
            for field in fields:
                if self.owner_of(entity, field) == OWNER_CHANNEL:
                    apply.add(field)
                elif self.policy_of(entity, field) == POLICY_EXCEPTION:
                    conflicts.add(field)
                else:
                    ignored.add(field)
            allowed = True
        return InboundDecision(
            allowed=allowed,
            apply=frozenset(apply),
            conflicts=frozenset(conflicts),
            ignored=frozenset(ignored),
        )

    def outbound_fields(self, entity: str, fields: Iterable[str]) -> frozenset[str]:
        """The subset of ``fields`` Odoo owns, i.e. what may be pushed out."""
        _check_entity(entity)
        return frozenset(
            field for field in fields if self.owner_of(entity, field) == OWNER_ODOO
        )

    def may_push(self, entity: str) -> bool:
        """True when Odoo owns the entity as a whole."""
        return self.owner_of(entity) == OWNER_ODOO


def describe_line_changes(current, new):
    """What differs between two versions of an order's lines, for a person.

    ``current`` and ``new`` are iterables of ``(label, quantity, unit_price,
    discount)``; returns one text per product whose lines differ, sorted by
    label, e.g. ``"DS-WIDGET: 4 x 12.5 -> 5 x 12.5"``; an empty list when the
    lines are the same.
    """

    def grouped(lines):
        result = {}
        for label, quantity, price, discount in lines:
            row = (quantity, price, discount or 0)
            result.setdefault(str(label), []).append(
                tuple(Decimal(str(value)) for value in row)
            )
        return {label: sorted(rows) for label, rows in result.items()}

    def text(rows):
        parts = []
        for quantity, price, discount in rows:
            part = f"{format_number(quantity)} x {format_number(price)}"
            if discount:
                part += f" -{format_number(discount)}%"
            parts.append(part)
        return " + ".join(parts)

    before, after = grouped(current), grouped(new)
    changes = []
    for label in sorted(set(before) | set(after)):
        old_rows, new_rows = before.get(label), after.get(label)
        if old_rows == new_rows:
            continue
        if not old_rows:
            changes.append(f"{label}: added ({text(new_rows)})")
        elif not new_rows:
            changes.append(f"{label}: removed (was {text(old_rows)})")
        else:
            changes.append(f"{label}: {text(old_rows)} -> {text(new_rows)}")
    return changes
