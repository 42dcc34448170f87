import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution_sync.core.errors import OwnershipConflict
from distribution_sync.core.ownership import (
    ENTITIES,
    ENTITY_LABELS,
    OWNER_CHANNEL,
    OWNER_ODOO,
    POLICY_EXCEPTION,
    POLICY_IGNORE,
    InboundDecision,
    OwnershipMatrix,
    OwnershipRule,
    describe_line_changes,
)

OWNERS = (OWNER_ODOO, OWNER_CHANNEL)
POLICIES = (POLICY_EXCEPTION, POLICY_IGNORE)
# None = no rule; otherwise (owner, policy).
ENTITY_RULES = (None, *itertools.product(OWNERS, POLICIES))
FIELD_RULES = ENTITY_RULES
CHANGED = frozenset({"email", "phone", "name"})


def _expected(entity_rule, field_rule, default_owner, is_create):
    """Oracle written from the contract, independent of the implementation."""
    entity_owner = entity_rule[0] if entity_rule else default_owner
    entity_policy = entity_rule[1] if entity_rule else POLICY_EXCEPTION
    apply, conflicts, ignored = set(), set(), set()
    if is_create:
        if entity_owner == OWNER_CHANNEL:
            for field in CHANGED:
                if field == "email" and field_rule and field_rule[0] == OWNER_ODOO:
                    ignored.add(field)
                else:
                    apply.add(field)
            return True, apply, conflicts, ignored
        target = conflicts if entity_policy == POLICY_EXCEPTION else ignored
        target.update(CHANGED)
        return False, apply, conflicts, ignored
    for field in CHANGED:
        owner, policy = (
            field_rule
            if field == "email" and field_rule
            else (entity_owner, entity_policy)
        )
        if owner == OWNER_CHANNEL:
            apply.add(field)
        elif policy == POLICY_EXCEPTION:
            conflicts.add(field)
        else:
            ignored.add(field)
    return True, apply, conflicts, ignored


def _matrix(entity, entity_rule, field_rule, default_owner):
    rules = []
    if entity_rule:
        rules.append(OwnershipRule(entity, entity_rule[0], on_conflict=entity_rule[1]))
    if field_rule:
        rules.append(
            OwnershipRule(
                entity, field_rule[0], field="email", on_conflict=field_rule[1]
            )
        )
    return OwnershipMatrix(rules, default_owner=default_owner)


def test_exhaustive_matrix():
    combos = itertools.product(
        ENTITIES, ENTITY_RULES, FIELD_RULES, OWNERS, (False, True)
    )
    count = 0
    for entity, entity_rule, field_rule, default_owner, is_create in combos:
        matrix = _matrix(entity, entity_rule, field_rule, default_owner)
        decision = matrix.decide_inbound(entity, CHANGED, is_create=is_create)
        assert decision.apply | decision.conflicts | decision.ignored == CHANGED
        assert not decision.apply & decision.conflicts
        assert not decision.apply & decision.ignored
        assert not decision.conflicts & decision.ignored
        allowed, apply, conflicts, ignored = _expected(
            entity_rule, field_rule, default_owner, is_create
        )
        context = (entity, entity_rule, field_rule, default_owner, is_create)
        assert decision.allowed is allowed, context
        assert decision.apply == apply, context
        assert decision.conflicts == conflicts, context
        assert decision.ignored == ignored, context
        assert decision.has_conflict == bool(conflicts)
        # Rules of one entity never leak into another.
        other = ENTITIES[(ENTITIES.index(entity) + 1) % len(ENTITIES)]
        assert matrix.owner_of(other, "email") == default_owner
        # Outbound is the complement of what the channel owns.
        pushed = matrix.outbound_fields(entity, CHANGED)
        assert pushed == {
            f for f in CHANGED if matrix.owner_of(entity, f) == OWNER_ODOO
        }
        entity_owner = entity_rule[0] if entity_rule else default_owner
        assert matrix.may_push(entity) is (entity_owner == OWNER_ODOO)
        count += 1
    assert count == len(ENTITIES) * 5 * 5 * 2 * 2


def test_owner_precedence():
    matrix = OwnershipMatrix(
        [
            OwnershipRule("customer", OWNER_CHANNEL),
            OwnershipRule("customer", OWNER_ODOO, field="credit_limit"),
        ]
    )
    assert matrix.owner_of("customer") == OWNER_CHANNEL
    assert matrix.owner_of("customer", "email") == OWNER_CHANNEL
    assert matrix.owner_of("customer", "credit_limit") == OWNER_ODOO
    assert matrix.owner_of("product", "name") == OWNER_ODOO
    assert matrix.policy_of("product") == POLICY_EXCEPTION


def test_policy_precedence():
    matrix = OwnershipMatrix(
        [
            OwnershipRule("product", OWNER_ODOO, on_conflict=POLICY_IGNORE),
            OwnershipRule("product", OWNER_ODOO, field="name"),
        ]
    )
    assert matrix.policy_of("product") == POLICY_IGNORE
    assert matrix.policy_of("product", "barcode") == POLICY_IGNORE
    assert matrix.policy_of("product", "name") == POLICY_EXCEPTION


def test_update_conflict_raises_named_fields():
    matrix = OwnershipMatrix([OwnershipRule("customer", OWNER_ODOO)])
    decision = matrix.decide_inbound("customer", ["phone", "email"])
    assert decision.allowed
    assert decision.conflicts == {"email", "phone"}
    with pytest.raises(OwnershipConflict) as info:
        decision.raise_for_conflict("customer")
    assert str(info.value) == (
        "Odoo owns customer fields email, phone; "
        "the change from the channel was not applied."
    )


def test_no_conflict_does_not_raise():
    decision = InboundDecision(True, frozenset({"a"}), frozenset(), frozenset())
    decision.raise_for_conflict("order")
    assert not decision.has_conflict


def test_create_of_channel_entity_ignores_odoo_fields():
    matrix = OwnershipMatrix(
        [
            OwnershipRule("order", OWNER_CHANNEL),
            OwnershipRule("order", OWNER_ODOO, field="warehouse_id"),
        ]
    )
    decision = matrix.decide_inbound(
        "order", {"partner_id", "warehouse_id"}, is_create=True
    )
    assert decision.allowed
    assert decision.apply == {"partner_id"}
    assert decision.ignored == {"warehouse_id"}
    assert not decision.conflicts
    update = matrix.decide_inbound("order", {"partner_id", "warehouse_id"})
    assert update.conflicts == {"warehouse_id"}


def test_create_of_odoo_entity_refused():
    matrix = OwnershipMatrix([OwnershipRule("product", OWNER_ODOO)])
    decision = matrix.decide_inbound("product", {"name"}, is_create=True)
    assert not decision.allowed
    assert decision.conflicts == {"name"}


def test_duplicate_rules_rejected():
    with pytest.raises(ValueError, match="Two ownership rules"):
        OwnershipMatrix(
            [
                OwnershipRule("stock", OWNER_ODOO, field="qty"),
                OwnershipRule("stock", OWNER_CHANNEL, field="qty"),
            ]
        )
    with pytest.raises(ValueError):
        OwnershipMatrix(
            [OwnershipRule("stock", OWNER_ODOO), OwnershipRule("stock", OWNER_ODOO)]
        )


@pytest.mark.parametrize(
    "rule",
    [
        OwnershipRule("warehouse", OWNER_ODOO),
        OwnershipRule("stock", "shopify"),
        OwnershipRule("stock", OWNER_ODOO, on_conflict="merge"),
        OwnershipRule("stock", OWNER_ODOO, field=""),
    ],
)
def test_invalid_rules_rejected(rule):
    with pytest.raises(ValueError):
        OwnershipMatrix([rule])


def test_invalid_default_owner_and_entity():
    with pytest.raises(ValueError):
        OwnershipMatrix([], default_owner="nobody")
    with pytest.raises(ValueError):
        OwnershipMatrix([]).owner_of("warehouse")
    with pytest.raises(ValueError):
        OwnershipMatrix([]).decide_inbound("warehouse", [])


def test_entity_labels_cover_entities():
    assert set(ENTITY_LABELS) == set(ENTITIES)


FIELD_NAMES = st.sampled_from(["a", "b", "c", "d", "e"])


@st.composite
def matrices(draw):
    entity = draw(st.sampled_from(ENTITIES))
    rules = []
    entity_rule = draw(st.sampled_from(ENTITY_RULES))
    if entity_rule:
        rules.append(OwnershipRule(entity, entity_rule[0], on_conflict=entity_rule[1]))
    for field in draw(st.sets(FIELD_NAMES)):
        owner = draw(st.sampled_from(OWNERS))
        policy = draw(st.sampled_from(POLICIES))
        rules.append(OwnershipRule(entity, owner, field=field, on_conflict=policy))
    default = draw(st.sampled_from(OWNERS))
    return entity, OwnershipMatrix(draw(st.permutations(rules)), default_owner=default)


@given(data=matrices(), changed=st.sets(FIELD_NAMES), is_create=st.booleans())
def test_decision_partitions_changed_fields(data, changed, is_create):
    entity, matrix = data
    decision = matrix.decide_inbound(entity, changed, is_create=is_create)
    parts = (decision.apply, decision.conflicts, decision.ignored)
    assert frozenset().union(*parts) == changed
    assert sum(len(part) for part in parts) == len(changed)
    if not is_create:
        assert decision.allowed
        assert decision.apply == {
            f for f in changed if matrix.owner_of(entity, f) == OWNER_CHANNEL
        }
        # Whatever Odoo owns is exactly what it may push.
        assert decision.conflicts | decision.ignored == matrix.outbound_fields(
            entity, changed
        )
    elif not decision.allowed:
        assert not decision.apply


def test_describe_line_changes_names_each_difference():
    current = [("DS-WIDGET", 4, "12.50", 0), ("DS-BOLT-M8", 20, "0.40", 0)]
    new = [
        ("DS-WIDGET", 5, "12.50", 0),
        ("DS-BOLT-M8", 20, "0.40", 0),
        ("DS-MUG", 1, "12", "10"),
    ]
    assert describe_line_changes(current, new) == [
        "DS-MUG: added (1 x 12 -10%)",
        "DS-WIDGET: 4 x 12.5 -> 5 x 12.5",
    ]
    assert describe_line_changes(new, current[1:]) == [
        "DS-MUG: removed (was 1 x 12 -10%)",
        "DS-WIDGET: removed (was 5 x 12.5)",
    ]


def test_describe_line_changes_same_lines_in_any_order():
    lines = [("A", 1, 2.0, 0), ("A", 3, 1.5, 0), ("B", 1.0, 1, None)]
    assert describe_line_changes(lines, list(reversed(lines))) == []
    assert describe_line_changes([("A", 1, 2, 0)], [("A", 1, 2, 5)]) == [
        "A: 1 x 2 -> 1 x 2 -5%"
    ]
