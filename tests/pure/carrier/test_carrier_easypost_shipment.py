"""EasyPost shipments: the request from the canonical form (units, addresses),
what is checked before buying, reading a Shipment back, choosing the rate."""

import copy
from decimal import Decimal

import pytest
from carrier_shipments import (
    CUSTOMER,
    RATES,
    REQUEST,
    UNBOUGHT,
    WAREHOUSE,
    bought,
    rate,
)

from distribution_sync.core.errors import PayloadError, SyncError
from distribution_sync_carrier.core import easypost


def request(**changes):
    data = copy.deepcopy(REQUEST)
    data.update(changes)
    return data


def with_parcel(**changes):
    return request(parcel=dict(REQUEST["parcel"], **changes))


# ---------------------------------------------------------- request body
def test_shipment_request_body():
    assert easypost.shipment_request(REQUEST) == {
        "shipment": {
            "reference": "WH/OUT/00042",
            "is_return": False,
            "options": {"label_format": "PDF"},
            "from_address": {
                "name": "Shipping Desk",
                "company": "Acme Distribution",
                "street1": "417 Montgomery Street",
                "street2": "Floor 5",
                "city": "San Francisco",
                "state": "CA",
                "zip": "94104",
                "country": "US",
                "phone": "415-123-4567",
                "email": "ship@acme.example",
            },
            "to_address": {
                "name": "Dr. Steve Brule",
                "street1": "179 N Harbor Dr",
                "city": "Redondo Beach",
                "state": "CA",
                "zip": "90277",
                "country": "US",
            },
            # 2.5 kg = 88.1849 oz; 30 x 20 x 10.5 cm = 11.811 x 7.874 x 4.134 in
            "parcel": {"weight": 88.2, "length": 11.9, "width": 7.9, "height": 4.2},
        }
    }


@pytest.mark.parametrize(
    ("kg", "ounces"),
    [
        (Decimal("1"), 35.3),  # 35.27396...
        (Decimal("0.45359237"), 16.0),  # one pound, exactly 16 oz
        (Decimal("0.001"), 0.1),  # a gram still weighs something
        ("0.5", 17.7),  # 17.63698...: rounded up, never declared lighter
        (2, 70.6),
        (0.2, 7.1),  # 7.0547...
    ],
)
def test_weight_is_sent_in_ounces_rounded_up(kg, ounces):
    parcel = easypost.parcel_payload({"weight_kg": kg})
    assert parcel == {"weight": ounces}


def test_dimensions_are_all_or_nothing():
    assert easypost.parcel_payload(
        {"weight_kg": 1, "length_cm": 0, "width_cm": None, "height_cm": False}
    ) == {"weight": 35.3}
    with pytest.raises(PayloadError):
        easypost.parcel_payload({"weight_kg": 1, "length_cm": 10})


@pytest.mark.parametrize(
    ("parcel", "path"),
    [
        ({}, "parcel.weight_kg"),
        ({"weight_kg": 0}, "parcel.weight_kg"),
        ({"weight_kg": "-1"}, "parcel.weight_kg"),
        ({"weight_kg": "heavy"}, "parcel.weight_kg"),
        ({"weight_kg": 10**400}, "parcel.weight_kg"),
        ({"weight_kg": True}, "parcel.weight_kg"),
        ({"weight_kg": 1, "width_cm": -3}, "parcel.width_cm"),
        ({"weight_kg": 1, "height_cm": "NaN"}, "parcel.height_cm"),
    ],
)
def test_parcel_errors_name_the_key(parcel, path):
    with pytest.raises(PayloadError) as info:
        easypost.parcel_payload(parcel)
    assert info.value.path == path


def test_address_payload_maps_keys_and_leaves_out_empty_values():
    assert easypost.address_payload(
        {"street": " 1 Main St ", "country": "ca", "phone": False, "zip": "H2X 1Y4"}
    ) == {"street1": "1 Main St", "country": "CA", "zip": "H2X 1Y4"}


@pytest.mark.parametrize(
    ("address", "path"),
    [
        ({"street": "1\x00 Main"}, "address.street"),
        ({"city": ["Paris"]}, "address.city"),
        ({"name": "x" * 501}, "address.name"),
    ],
)
def test_address_errors_name_the_key(address, path):
    with pytest.raises(PayloadError) as info:
        easypost.address_payload(address)
    assert info.value.path == path


def test_label_format_defaults_to_pdf_and_is_upper_case():
    body = easypost.shipment_request(request(label_format=None))["shipment"]
    assert body["options"] == {"label_format": "PDF"}
    body = easypost.shipment_request(request(label_format="zpl"))["shipment"]
    assert body["options"] == {"label_format": "ZPL"}


def test_return_and_no_reference():
    body = easypost.shipment_request(request(is_return=True, reference=None))
    assert body["shipment"]["is_return"] is True
    assert "reference" not in body["shipment"]


# ---------------------------------------------------------------- checks
def test_a_complete_request_has_no_problem():
    assert easypost.validate_shipment(REQUEST) == []


@pytest.mark.parametrize(
    ("shipment", "problems"),
    [
        (
            with_parcel(weight_kg=0),
            [
                "The package has no weight: set the weight of the products or of "
                "the package."
            ],
        ),
        (
            with_parcel(weight_kg=None),
            [
                "The package has no weight: set the weight of the products or of "
                "the package."
            ],
        ),
        (
            with_parcel(weight_kg="-2"),
            ["The package weight must be more than 0 kg, not -2."],
        ),
        (
            with_parcel(weight_kg="abc"),
            ["The package weight 'abc' is not a number."],
        ),
        (
            with_parcel(height_cm=0),
            [
                "The package dimensions are incomplete: give its length, width "
                "and height, or none of them."
            ],
        ),
        (
            request(parcel=None),
            ["The package is missing: give at least its weight."],
        ),
        (
            request(to_address=dict(CUSTOMER, street=False, zip="  ")),
            ["The delivery address has no street and ZIP / postal code."],
        ),
        (
            request(from_address=dict(WAREHOUSE, city=None, country=None, zip="")),
            [
                "The sender address (the warehouse) has no city, ZIP / postal code "
                "and country."
            ],
        ),
        (
            request(to_address=None),
            ["The delivery address is missing."],
        ),
        (
            request(to_address=dict(CUSTOMER, country="USA")),
            ["The delivery address country 'USA' is not a two-letter ISO code."],
        ),
        (
            request(label_format="GIF"),
            ["The label format 'GIF' is not one of PDF, PNG, ZPL."],
        ),
    ],
)
def test_problems_are_sentences(shipment, problems):
    assert easypost.validate_shipment(shipment) == problems


def test_every_problem_is_reported_at_once():
    shipment = request(
        parcel={"weight_kg": 0},
        to_address=dict(CUSTOMER, city=""),
        from_address=dict(WAREHOUSE, street=None),
    )
    assert len(easypost.validate_shipment(shipment)) == 3


@pytest.mark.parametrize("shipment", [None, [], "shipment", 3])
def test_validate_never_raises(shipment):
    assert easypost.validate_shipment(shipment) == [
        "The shipment request is not an object."
    ]


def test_request_with_problems_is_refused_with_them():
    with pytest.raises(PayloadError) as info:
        easypost.shipment_request(with_parcel(weight_kg=0))
    assert "The package has no weight" in str(info.value)
    assert info.value.category == "validation"


# -------------------------------------------------------------- Shipment
PARSED_RATES = [
    {
        "id": "rate_prio",
        "carrier": "USPS",
        "service": "Priority",
        "rate": Decimal("7.58"),
        "currency": "USD",
    },
    {
        "id": "rate_express",
        "carrier": "USPS",
        "service": "Express",
        "rate": Decimal("30.10"),
        "currency": "USD",
    },
    {
        "id": "rate_ground",
        "carrier": "UPS",
        "service": "Ground",
        "rate": Decimal("12.31"),
        "currency": "USD",
    },
    {
        "id": "rate_ga",
        "carrier": "USPS",
        "service": "GroundAdvantage",
        "rate": Decimal("5.93"),
        "currency": "USD",
    },
]


def test_parse_unbought_shipment():
    assert easypost.parse_shipment(UNBOUGHT) == {
        "id": "shp_0ac8c7bc",
        "tracking_code": None,
        "bought": False,
        "label_url": None,
        "label_format": None,
        "rate": None,
        "currency": None,
        "carrier": None,
        "service": None,
        "fees_total": Decimal(0),
        "tracker_id": None,
        "public_url": None,
        "refund_status": None,
        "rates": PARSED_RATES,
    }


def test_parse_bought_shipment():
    result = easypost.parse_shipment(bought())
    assert result == {
        "id": "shp_0ac8c7bc",
        "tracking_code": "9400100208303109500001",
        "bought": True,
        # options.label_format asked for PDF: its URL, not the PNG one
        "label_url": "https://easypost-files.s3.amazonaws.com/files/"
        "postage_label/20250509/e8a1.pdf",
        "label_format": "PDF",
        "rate": Decimal("7.58"),
        "currency": "USD",
        "carrier": "USPS",
        "service": "Priority",
        # the insurance fee was not charged
        "fees_total": Decimal("7.58000"),
        "tracker_id": "trk_b0a9c4d1",
        "public_url": "https://track.easypost.com/djE6dHJrX2IwYTljNGQx",
        "refund_status": None,
        "rates": PARSED_RATES,
    }


def test_label_url_follows_the_file_type_without_a_wanted_format():
    data = bought(options={})
    data["postage_label"]["label_pdf_url"] = None
    result = easypost.parse_shipment(data)
    assert result["label_format"] == "PNG"
    assert result["label_url"].endswith(".png")


def test_zpl_label():
    data = bought(options={"label_format": "ZPL"})
    data["postage_label"].update(
        label_zpl_url="https://easypost-files.s3.amazonaws.com/x.zpl",
        label_pdf_url=None,
    )
    result = easypost.parse_shipment(data)
    assert (result["label_url"], result["label_format"]) == (
        "https://easypost-files.s3.amazonaws.com/x.zpl",
        "ZPL",
    )


def test_refunded_fees_are_not_counted():
    data = bought(refund_status="refunded")
    for fee in data["fees"]:
        fee["refunded"] = True
    result = easypost.parse_shipment(data)
    assert result["fees_total"] == 0
    assert result["refund_status"] == "refunded"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": None}, "id"),
        ({"id": 1.5}, "id"),
        ({"postage_label": "yes"}, "postage_label"),
        ({"rates": {"rate": "1"}}, "rates"),
        ({"rates": [{"id": "rate_1"}]}, "rates[0].rate"),
        ({"rates": [{"rate": "1.00"}]}, "rates[0].id"),
        ({"selected_rate": {"rate": "7,58"}}, "selected_rate.rate"),
        ({"selected_rate": {"rate": 10**400}}, "selected_rate.rate"),
        ({"fees": [{"amount": "1", "charged": "true"}]}, "fees[0].charged"),
        ({"fees": [{"amount": "NaN", "charged": True}]}, "fees[0].amount"),
        ({"tracking_code": "94\x00"}, "tracking_code"),
        ({"tracker": {"public_url": ["x"]}}, "tracker.public_url"),
    ],
)
def test_parse_shipment_errors_name_the_path(change, path):
    with pytest.raises(PayloadError) as info:
        easypost.parse_shipment(bought(**change))
    assert info.value.path == path


# ------------------------------------------------------------ select_rate
@pytest.mark.parametrize(
    "service", ["USPS/Priority", "usps/priority", " USPS/PRIORITY ", "Priority"]
)
def test_select_rate_hit(service):
    assert easypost.select_rate(RATES, service)["id"] == "rate_prio"


def test_select_rate_on_parsed_rates():
    selected = easypost.select_rate(PARSED_RATES, "UPS/Ground")
    assert selected["id"] == "rate_ground"


def test_select_rate_takes_the_cheapest_of_several_accounts():
    rates = [*RATES, rate("rate_prio_2", "USPS", "Priority", "7.10")]
    assert easypost.select_rate(rates, "USPS/Priority")["id"] == "rate_prio_2"


@pytest.mark.parametrize("service", ["FedEx/Priority", "USPS/Ground", "", None])
def test_select_rate_miss_lists_what_was_offered(service):
    with pytest.raises(easypost.RateNotOffered) as info:
        easypost.select_rate(RATES, service)
    error = info.value
    assert isinstance(error, SyncError)
    assert error.category == "validation"
    assert error.offered == [
        "USPS/Priority (7.58 USD)",
        "USPS/Express (30.10 USD)",
        "UPS/Ground (12.31 USD)",
        "USPS/GroundAdvantage (5.93 USD)",
    ]
    assert "USPS/Priority (7.58 USD), USPS/Express (30.10 USD)" in str(error)
    if service:
        assert str(error).startswith(f'EasyPost offers no "{service}" rate')
    else:
        assert str(error).startswith("No carrier service is set")


def test_select_rate_without_rates():
    with pytest.raises(easypost.RateNotOffered) as info:
        easypost.select_rate([], "USPS/Priority")
    assert "offered: nothing" in str(info.value)
