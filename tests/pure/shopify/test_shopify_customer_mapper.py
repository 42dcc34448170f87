from datetime import datetime, timezone

import pytest
from shopify_samples import expected_json, sample_json

from distribution_sync.core.canonical import to_jsonable
from distribution_sync.core.errors import PayloadError
from distribution_sync_shopify.core.customer_mapper import map_customer


@pytest.mark.parametrize("name", ["webhook_customers_create", "rest_customer"])
def test_golden(name):
    assert to_jsonable(map_customer(sample_json(name))) == expected_json(name)


def test_exact_id_and_updated_at():
    result = map_customer(sample_json("webhook_customers_create"))
    # "id" is 706405506930370000 in the sample (rounded by JavaScript)
    assert result["external_id"] == "706405506930370084"
    assert result["updated_at"] == datetime(2022, 1, 1, 0, 0, tzinfo=timezone.utc)


def test_only_present_keys():
    result = map_customer({"id": 5, "email": " Bob@Example.COM "})
    assert result == {
        "external_id": "5",
        "updated_at": None,
        "values": {"email": "bob@example.com"},
    }
    # no default address: no address key at all, not even None
    values = map_customer(sample_json("webhook_customers_create"))["values"]
    assert set(values) == {"name", "email", "phone"}


def test_address_from_default_address():
    data = sample_json("webhook_customers_create")
    data["default_address"] = {
        "address1": "123 Elm St.",
        "address2": None,
        "city": "Ottawa",
        "zip": "K2H7A8",
        "province_code": "ON",
        "country_code": "ca",
        "phone": "123-123-1234",
    }
    values = map_customer(data)["values"]
    assert values == {
        "name": "Bob Biller",
        "email": "bob@biller.com",
        "phone": "123-123-1234",  # the customer has none: the address phone
        "street": "123 Elm St.",
        "street2": None,
        "city": "Ottawa",
        "zip": "K2H7A8",
        "country_code": "CA",
        "state_code": "ON",
    }


def test_errors():
    with pytest.raises(PayloadError) as info:
        map_customer({"email": "x@example.com"})
    assert info.value.path == "id"
    with pytest.raises(PayloadError) as info:
        map_customer({"id": 1, "updated_at": "never"})
    assert info.value.path == "updated_at"
    with pytest.raises(PayloadError):
        map_customer(["not", "an", "object"])
