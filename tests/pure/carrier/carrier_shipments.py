"""Shipment data written for these tests, in the shapes EasyPost documents: a
canonical shipment request (as the Odoo side builds it) and Shipment objects
before and after buying (``postage_label``, ``selected_rate``, ``fees``,
``tracker``)."""

import copy
from decimal import Decimal

WAREHOUSE = {
    "name": "Shipping Desk",
    "company": "Acme Distribution",
    "street": "417 Montgomery Street",
    "street2": "Floor 5",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94104",
    "country": "us",
    "phone": "415-123-4567",
    "email": "ship@acme.example",
}
CUSTOMER = {
    "name": "Dr. Steve Brule",
    "company": False,  # Odoo reads an empty field as False
    "street": "179 N Harbor Dr",
    "street2": None,
    "city": "Redondo Beach",
    "state": "CA",
    "zip": "90277",
    "country": "US",
    "phone": "",
    "email": None,
}
REQUEST = {
    "reference": "WH/OUT/00042",
    "is_return": False,
    "label_format": "PDF",
    "from_address": WAREHOUSE,
    "to_address": CUSTOMER,
    "parcel": {
        "weight_kg": Decimal("2.5"),
        "length_cm": Decimal("30"),
        "width_cm": Decimal("20"),
        "height_cm": Decimal("10.5"),
    },
}


def rate(rate_id, carrier, service, amount, currency="USD"):
    return {
        "id": rate_id,
        "object": "Rate",
        "mode": "test",
        "service": service,
        "carrier": carrier,
        "rate": amount,
        "currency": currency,
        "retail_rate": amount,
        "retail_currency": currency,
        "list_rate": amount,
        "list_currency": currency,
        "delivery_days": 2,
        "delivery_date": None,
        "delivery_date_guaranteed": False,
        "est_delivery_days": 2,
        "shipment_id": "shp_0ac8c7bc",
        "carrier_account_id": "ca_7c7a5d8f",
    }


RATES = [
    rate("rate_prio", "USPS", "Priority", "7.58"),
    rate("rate_express", "USPS", "Express", "30.10"),
    rate("rate_ground", "UPS", "Ground", "12.31"),
    rate("rate_ga", "USPS", "GroundAdvantage", "5.93"),
]

UNBOUGHT = {
    "id": "shp_0ac8c7bc",
    "object": "Shipment",
    "mode": "test",
    "reference": "WH/OUT/00042",
    "created_at": "2025-05-09T20:41:10Z",
    "updated_at": "2025-05-09T20:41:10Z",
    "status": "unknown",
    "tracking_code": None,
    "is_return": False,
    "options": {"label_format": "PDF", "currency": "USD", "date_advance": 0},
    "parcel": {"object": "Parcel", "weight": 88.2, "length": 11.9},
    "postage_label": None,
    "rates": RATES,
    "selected_rate": None,
    "fees": [],
    "tracker": None,
    "refund_status": None,
    "messages": [],
}


def bought(**changes):
    data = copy.deepcopy(UNBOUGHT)
    data.update(
        {
            "tracking_code": "9400100208303109500001",
            "status": "unknown",
            "postage_label": {
                "object": "PostageLabel",
                "id": "pl_e5a7d4c2",
                "created_at": "2025-05-09T20:41:12Z",
                "date_advance": 0,
                "integrated_form": "none",
                "label_date": "2025-05-09T20:41:12Z",
                "label_epl2_url": None,
                "label_file_type": "image/png",
                "label_pdf_url": "https://easypost-files.s3.amazonaws.com/files/"
                "postage_label/20250509/e8a1.pdf",
                "label_resolution": 300,
                "label_size": "4x6",
                "label_type": "default",
                "label_url": "https://easypost-files.s3.amazonaws.com/files/"
                "postage_label/20250509/e8a1.png",
                "label_zpl_url": None,
            },
            "selected_rate": rate("rate_prio", "USPS", "Priority", "7.58"),
            "fees": [
                {
                    "object": "Fee",
                    "type": "LabelFee",
                    "amount": "0.00000",
                    "charged": True,
                    "refunded": False,
                },
                {
                    "object": "Fee",
                    "type": "PostageFee",
                    "amount": "7.58000",
                    "charged": True,
                    "refunded": False,
                },
                {
                    "object": "Fee",
                    "type": "InsuranceFee",
                    "amount": "1.00000",
                    "charged": False,
                    "refunded": False,
                },
            ],
            "tracker": {
                "id": "trk_b0a9c4d1",
                "object": "Tracker",
                "mode": "test",
                "tracking_code": "9400100208303109500001",
                "status": "pre_transit",
                "public_url": "https://track.easypost.com/djE6dHJrX2IwYTljNGQx",
            },
        }
    )
    data.update(changes)
    return data
