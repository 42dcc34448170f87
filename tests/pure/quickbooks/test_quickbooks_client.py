"""The QuickBooks clients (token endpoint and Accounting API), over real HTTP
against the local fake QuickBooks."""

import base64
import hashlib
import hmac
import importlib
import importlib.machinery
import importlib.util
import json
import socket
import sys
import threading
import time
import types
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from distribution_sync.core.errors import PayloadError, SyncError, TransientError

REPO = Path(__file__).resolve().parents[3]
ADDON = REPO / "distribution_sync_quickbooks"
PACKAGE = ADDON.name


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bare_package():
    """The addon as a bare package (its ``__init__`` imports Odoo), when
    tests/conftest.py has not registered it (no manifest yet)."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(ADDON)]
    module = types.ModuleType(PACKAGE)
    module.__spec__ = spec
    module.__path__ = [str(ADDON)]
    module.__package__ = PACKAGE
    sys.modules[PACKAGE] = module


_bare_package()
try:
    client_module = importlib.import_module(f"{PACKAGE}.core.client")
    qb_errors = importlib.import_module(f"{PACKAGE}.core.errors")
    oauth = importlib.import_module(f"{PACKAGE}.core.oauth")
    webhook = importlib.import_module(f"{PACKAGE}.core.webhook")
except ImportError as exc:  # the modules of the other half are written apart
    pytest.skip(
        f"core/errors.py, oauth.py or webhook.py is not importable yet: {exc}",
        allow_module_level=True,
    )
# Loaded by path: importing the addon's tests package would run its
# __init__, which imports the Odoo test modules.
fake_quickbooks = _load(
    "quickbooks_fake_quickbooks", ADDON / "tests" / "fake_quickbooks.py"
)

QuickBooksClient = client_module.QuickBooksClient
TokenClient = client_module.TokenClient
batch_item_error = client_module.batch_item_error
FakeQuickBooks = fake_quickbooks.FakeQuickBooks
InvalidGrant = oauth.InvalidGrant


class RecordingSession(requests.Session):
    """A session that records the keyword arguments of every request."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def request(self, method, url, *args, **kwargs):
        self.calls.append({"method": method, "url": url, **kwargs})
        return super().request(method, url, *args, **kwargs)


class Tokens:
    """A token provider as the backend has one: refreshes through the token
    endpoint when asked to (or when it has no access token yet) and keeps the
    newest refresh token."""

    def __init__(self, fake, session=None):
        self.token_client = TokenClient(
            fake.token_url, fake.client_id, fake.client_secret, session=session
        )
        self.refresh_token = fake.refresh_token
        self.access = None
        self.calls = []

    def __call__(self, force_refresh):
        self.calls.append(force_refresh)
        if force_refresh or not self.access:
            data = self.token_client.refresh(self.refresh_token)
            self.refresh_token = data["refresh_token"]
            self.access = data["access_token"]
        return self.access


@pytest.fixture
def fake():
    with FakeQuickBooks() as server:
        yield server
        assert server.errors == []


@pytest.fixture
def tokens(fake):
    return Tokens(fake)


@pytest.fixture
def client(fake, tokens):
    with QuickBooksClient(fake.api_url, fake.realm_id, tokens, timeout=5) as qbo:
        yield qbo


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_requests(fake, operation=None):
    return [
        r
        for r in fake.requests
        if r["operation"] not in ("token", "revoke")
        and (operation is None or r["operation"] == operation)
    ]


def new_customer(client, name="Ada Lovelace", request_id=None):
    answer = client.create("Customer", {"DisplayName": name}, request_id or name[:50])
    return answer["Customer"]


def services_item(fake):
    (item,) = fake.find("Item", Name="Services")
    return item


def invoice_payload(customer_id, item_id, amount="100.00", **changes):
    payload = {
        "CustomerRef": {"value": customer_id},
        "Line": [
            {
                "Amount": Decimal(amount),
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item_id},
                    "Qty": 1,
                    "UnitPrice": Decimal(amount),
                },
            }
        ],
    }
    payload.update(changes)
    return payload


def new_invoice(client, fake, request_id="inv-1", amount="100.00", **changes):
    customer = changes.pop("customer", None) or new_customer(
        client, f"Customer of {request_id}", f"c-{request_id}"
    )
    payload = invoice_payload(customer["Id"], services_item(fake)["Id"], amount)
    payload.update(changes)
    return client.create("Invoice", payload, request_id)["Invoice"]


# -------------------------------------------------------------- the basics
def test_every_request_has_minorversion_json_headers_and_the_bearer_token(
    fake, client, tokens
):
    customer = new_customer(client, "Ada Lovelace", "ds-customer-7")
    client.read("Customer", customer["Id"])
    create, read = api_requests(fake)
    assert create["method"] == "POST"
    assert create["path"] == f"/v3/company/{fake.realm_id}/customer"
    assert create["query"] == {"minorversion": "75", "requestid": "ds-customer-7"}
    assert create["json"] == {"DisplayName": "Ada Lovelace"}
    assert read["path"] == f"/v3/company/{fake.realm_id}/customer/{customer['Id']}"
    assert read["query"] == {"minorversion": "75"}
    for record in (create, read):
        assert record["headers"]["Accept"] == "application/json"
        assert record["headers"]["Content-Type"] == "application/json"
        assert record["headers"]["Authorization"] == f"Bearer {tokens.access}"
        assert record["status"] == 200
    assert tokens.calls == [False, False]
    assert customer["SyncToken"] == "0"
    assert customer["DisplayName"] == "Ada Lovelace"
    assert client.last_tid and client.last_tid != "None"
    info = client.read("CompanyInfo", fake.realm_id)["CompanyInfo"]
    assert fake.realm_id in info["CompanyName"]


def test_amounts_go_out_as_exact_json_numbers_and_totals_are_computed(fake, client):
    customer = new_customer(client)
    item = services_item(fake)
    payload = {
        "CustomerRef": {"value": customer["Id"]},
        "DocNumber": "INV/2026/0001",
        "TxnDate": "2026-03-01",
        "Line": [
            {
                "Amount": Decimal("100.11"),
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item["Id"]},
                    "Qty": Decimal("3"),
                    "UnitPrice": Decimal("33.37"),
                    "TaxCodeRef": {"value": "TAX"},
                },
            },
            {
                "Amount": Decimal("10.00"),
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {"PercentBased": False},
            },
        ],
        "TxnTaxDetail": {"TotalTax": Decimal("7.21")},
    }
    invoice = client.create("Invoice", payload, "inv-exact")["Invoice"]
    sent = fake.requests[-1]["json"]
    line = sent["Line"][0]
    # JSON numbers, exactly as written (the fake reads them as Decimal).
    assert isinstance(line["SalesItemLineDetail"]["UnitPrice"], Decimal)
    assert line["SalesItemLineDetail"]["UnitPrice"] == Decimal("33.37")
    assert str(line["Amount"]) == "100.11"
    assert str(sent["TxnTaxDetail"]["TotalTax"]) == "7.21"
    assert invoice["TotalAmt"] == 97.32  # 100.11 - 10.00 + 7.21
    assert invoice["Balance"] == 97.32
    assert invoice["DocNumber"] == "INV/2026/0001"
    assert invoice["DueDate"] == "2026-03-31"
    kinds = [row["DetailType"] for row in invoice["Line"]]
    assert kinds == ["SalesItemLineDetail", "SubTotalLineDetail", "DiscountLineDetail"]
    assert invoice["Line"][1]["Amount"] == 100.11
    assert invoice["CustomerRef"] == {"value": customer["Id"], "name": "Ada Lovelace"}
    stored = fake.objects["Invoice"][invoice["Id"]]
    assert stored["TotalAmt"] == Decimal("97.32")


def test_automated_sales_tax_can_differ_from_the_tax_sent(fake, client):
    fake.tax_rates["TAX"] = 8.25
    customer = new_customer(client)
    payload = invoice_payload(customer["Id"], services_item(fake)["Id"], "200.00")
    payload["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "TAX"}
    payload["TxnTaxDetail"] = {
        "TxnTaxCodeRef": {"value": "TAX"},
        "TotalTax": Decimal("16.00"),
    }
    invoice = client.create("Invoice", payload, "inv-ast")["Invoice"]
    assert invoice["TxnTaxDetail"]["TotalTax"] == 16.5  # 8.25 % of 200.00
    assert invoice["TotalAmt"] == 216.5
    assert invoice["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["TaxPercent"] == (
        8.25
    )


def test_qty_times_price_must_match_the_amount(fake, client):
    customer = new_customer(client)
    payload = invoice_payload(customer["Id"], services_item(fake)["Id"], "10.00")
    payload["Line"][0]["Amount"] = Decimal("10.01")
    with pytest.raises(PayloadError) as caught:
        client.create("Invoice", payload, "inv-bad-amount")
    assert caught.value.code == "6070"
    assert fake.objects["Invoice"] == {}


def test_update_sparse_then_a_stale_sync_token_is_stale_object(fake, client):
    customer = new_customer(client)
    updated = client.update(
        "Customer",
        {
            "Id": customer["Id"],
            "SyncToken": "0",
            "sparse": True,
            "PrimaryEmailAddr": {"Address": "ada@example.com"},
        },
        "cust-update-1",
    )["Customer"]
    assert updated["SyncToken"] == "1"
    assert updated["DisplayName"] == "Ada Lovelace"  # sparse: kept
    assert updated["PrimaryEmailAddr"] == {"Address": "ada@example.com"}
    record = fake.requests[-1]
    assert record["operation"] == "update"
    assert record["query"]["operation"] == "update"
    with pytest.raises(qb_errors.StaleObject) as caught:
        client.update(
            "Customer",
            {"Id": customer["Id"], "SyncToken": "0", "DisplayName": "Ada L."},
            "cust-update-2",
        )
    error = caught.value
    assert isinstance(error, TransientError)  # read again, retry
    assert error.code == "5010"
    assert error.status == 400
    assert error.intuit_tid == client.last_tid
    assert error.intuit_tid
    current = fake.get("Customer", customer["Id"])
    assert (current["SyncToken"], current["DisplayName"]) == ("1", "Ada Lovelace")
    # A full update (no sparse) clears what it leaves out.
    full = client.update(
        "Customer", {"Id": customer["Id"], "SyncToken": "1", "DisplayName": "Ada"}
    )["Customer"]
    assert full["SyncToken"] == "2"
    assert "PrimaryEmailAddr" not in full


def test_void_invoice_zeroes_the_amounts_and_notes_voided(fake, client):
    invoice = new_invoice(client, fake, amount="250.00")
    voided = client.void("Invoice", invoice["Id"], "0", "inv-1-void")["Invoice"]
    record = fake.requests[-1]
    assert record["query"]["operation"] == "void"
    assert record["json"] == {"Id": invoice["Id"], "SyncToken": "0"}
    assert voided["TotalAmt"] == 0
    assert voided["Balance"] == 0
    assert voided["PrivateNote"] == "Voided"
    assert voided["SyncToken"] == "1"
    assert all(line["Amount"] == 0 for line in voided["Line"])
    assert voided["DocNumber"] == invoice["DocNumber"]
    with pytest.raises(qb_errors.StaleObject):
        client.void("Invoice", invoice["Id"], "0")


def test_a_payment_lowers_the_balance_and_links_the_invoice(fake, client):
    invoice = new_invoice(client, fake, amount="100.00")
    payment = client.create(
        "Payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("40.00"),
            "PaymentMethodRef": {
                "value": fake.find("PaymentMethod", Name="Check")[0]["Id"]
            },
            "Line": [
                {
                    "Amount": Decimal("40.00"),
                    "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                }
            ],
        },
        "pay-1",
    )["Payment"]
    assert payment["UnappliedAmt"] == 0
    assert payment["DepositToAccountRef"]["name"] == "Undeposited Funds"
    after = client.read("Invoice", invoice["Id"])["Invoice"]
    assert after["Balance"] == 60
    assert after["TotalAmt"] == 100
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert after["SyncToken"] == "1"
    # More than the open balance is refused.
    with pytest.raises(PayloadError):
        client.create(
            "Payment",
            {
                "CustomerRef": invoice["CustomerRef"],
                "TotalAmt": 61,
                "Line": [
                    {
                        "Amount": 61,
                        "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                    }
                ],
            },
            "pay-2",
        )
    # Voiding the payment gives the balance back (Payment: update&include=void).
    voided = client.void("Payment", payment["Id"], "0", "pay-1-void")["Payment"]
    assert fake.requests[-1]["query"]["operation"] == "update"
    assert fake.requests[-1]["query"]["include"] == "void"
    assert voided["TotalAmt"] == 0
    back = client.read("Invoice", invoice["Id"])["Invoice"]
    assert (back["Balance"], back["LinkedTxn"]) == (100, [])


def test_a_payment_can_use_a_credit_memo_on_an_invoice(fake, client):
    invoice = new_invoice(client, fake, "inv-cm", amount="100.00")
    customer = {"Id": invoice["CustomerRef"]["value"]}
    payload = invoice_payload(customer["Id"], services_item(fake)["Id"], "30.00")
    memo = client.create("CreditMemo", payload, "cm-1")["CreditMemo"]
    assert (memo["TotalAmt"], memo["RemainingCredit"]) == (30, 30)
    # Recorded by the accountant in QuickBooks, not through the API.
    payment = fake.add(
        "Payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 70,
            "Line": [
                {
                    "Amount": 100,
                    "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                },
                {
                    "Amount": 30,
                    "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}],
                },
            ],
        },
    )
    assert payment["UnappliedAmt"] == 0
    assert fake.created["Payment"] == 0
    paid = client.read("Invoice", invoice["Id"])["Invoice"]
    used = client.read("CreditMemo", memo["Id"])["CreditMemo"]
    assert paid["Balance"] == 0
    assert (used["Balance"], used["RemainingCredit"]) == (0, 0)
    assert used["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    with pytest.raises(ValueError, match="6000"):
        fake.void_object("Invoice", invoice["Id"])  # paid: unlink first
    fake.remove("Payment", payment["Id"])
    assert client.read("Invoice", invoice["Id"])["Invoice"]["Balance"] == 100


def test_delete_then_read_is_object_not_found(fake, client):
    invoice = new_invoice(client, fake)
    answer = client.delete("Invoice", invoice["Id"], "0", "inv-1-delete")
    assert answer["Invoice"]["status"] == "Deleted"
    assert fake.requests[-1]["query"]["operation"] == "delete"
    with pytest.raises(qb_errors.ObjectNotFound) as caught:
        client.read("Invoice", invoice["Id"])
    assert caught.value.code == "610"
    assert caught.value.category == "mapping"
    with pytest.raises(PayloadError):
        client.delete("Customer", invoice["CustomerRef"]["value"], "0")


# ------------------------------------------------------------------- query
def test_query_by_field_with_quotes_and_pages(fake, client):
    for name in ("Alpha", "Bravo", "Charlie", "O'Brien", "Echo"):
        new_customer(client, name)
    found = client.query("SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien'")
    assert [c["DisplayName"] for c in found] == ["O'Brien"]
    assert client.query("SELECT * FROM Customer WHERE DisplayName = 'bravo'")
    assert client.query("SELECT * FROM Customer WHERE DisplayName = 'Zulu'") == []
    page = client.query("SELECT * FROM Customer", start=2, max_results=2)
    assert [c["DisplayName"] for c in page] == ["Bravo", "Charlie"]
    assert fake.requests[-1]["query"]["query"] == (
        "SELECT * FROM Customer STARTPOSITION 2 MAXRESULTS 2"
    )
    several = client.query(
        "SELECT * FROM Customer WHERE DisplayName IN ('Alpha', 'Echo') AND Id = "
        f"'{page[0]['Id']}'"
    )
    assert several == []
    item = client.query("SELECT * FROM Item WHERE Name = 'Services'")
    assert item[0]["Type"] == "Service"


@pytest.mark.parametrize(
    "statement, detail",
    [
        ("SELECT * FROM Customer WHERE Email = 'x'", "property 'Email'"),
        ("SELECT * FROM Custmoer", "invalid context declaration: Custmoer"),
        ("SELECT Id FROM Customer", "QueryParserError"),
        ("SELECT * FROM Customer WHERE DisplayName > 'x'", "QueryParserError"),
    ],
)
def test_query_errors_are_4001(fake, client, statement, detail):
    with pytest.raises(PayloadError) as caught:
        client.query(statement)
    assert caught.value.code == "4001"
    assert detail in str(caught.value)
    assert fake.requests[-1]["status"] == 400


def test_query_page_arguments_are_checked_before_sending(fake, client):
    with pytest.raises(PayloadError, match="start / max_results"):
        client.query("SELECT * FROM Customer MAXRESULTS 5")
    with pytest.raises(PayloadError, match="1 to 1000"):
        client.query("SELECT * FROM Customer", max_results=1001)
    with pytest.raises(PayloadError, match="not a QuickBooks query"):
        client.query("DELETE FROM Customer")
    assert api_requests(fake) == []


# -------------------------------------------------------- refusals by code
def test_duplicate_display_name_is_6240(fake, client):
    new_customer(client, "Ada Lovelace")
    with pytest.raises(qb_errors.DuplicateName) as caught:
        new_customer(client, "ADA LOVELACE", "second-ada")
    error = caught.value
    assert error.code == "6240"
    assert error.category == "duplicate"
    assert error.name == "ADA LOVELACE"
    assert "customer ADA LOVELACE" in str(error)
    assert fake.created["Customer"] == 1


def test_duplicate_doc_number_is_6210_when_custom_numbers_are_on(fake, client):
    first = new_invoice(client, fake, "inv-a", DocNumber="INV-7")
    customer = {"Id": first["CustomerRef"]["value"]}
    # Off (QuickBooks' default): the number is taken as given, twice.
    second = new_invoice(client, fake, "inv-b", DocNumber="INV-7", customer=customer)
    assert second["DocNumber"] == "INV-7"
    fake.custom_doc_numbers = True
    with pytest.raises(qb_errors.DuplicateDocNumber) as caught:
        new_invoice(client, fake, "inv-c", DocNumber="INV-7", customer=customer)
    assert caught.value.code == "6210"
    assert "INV-7" in str(caught.value)
    assert f"TxnId={first['Id']}" in str(caught.value)
    assert fake.created["Invoice"] == 2


def test_missing_or_inactive_reference_is_610(fake, client):
    item = services_item(fake)
    with pytest.raises(qb_errors.ObjectNotFound):
        client.create("Invoice", invoice_payload("999", item["Id"]), "inv-610")
    customer = new_customer(client)
    fake.edit("Customer", customer["Id"], {"Active": False})
    with pytest.raises(qb_errors.ObjectNotFound):
        client.create("Invoice", invoice_payload(customer["Id"], item["Id"]), "i-610b")
    with pytest.raises(qb_errors.ObjectNotFound):
        client.create(
            "Invoice", invoice_payload(customer["Id"], "12345"), "inv-610-item"
        )
    assert fake.objects["Invoice"] == {}


def test_company_inactive_injected_is_6190(fake, client):
    body = {
        "Fault": {
            "Error": [
                {
                    "Message": "Invalid Company Status",
                    "Detail": "The subscription has ended.",
                    "code": "6190",
                }
            ],
            "type": "ValidationFault",
        }
    }
    fake.fail_next("create", 400, body=body)
    with pytest.raises(qb_errors.CompanyInactive):
        new_customer(client)
    assert fake.objects["Customer"] == {}


def test_unknown_company_is_refused(fake, tokens):
    with QuickBooksClient(fake.api_url, "123", tokens) as other:
        with pytest.raises(PayloadError) as caught:
            other.read("Customer", "1")
    assert caught.value.status == 403


# ------------------------------------------------ lost answers, idempotency
def test_requestid_replay_after_a_dropped_answer_gives_one_object(fake, client):
    customer = new_customer(client)
    payload = invoice_payload(customer["Id"], services_item(fake)["Id"])
    fake.fail_next("create:Invoice", "drop")
    with pytest.raises(TransientError) as caught:
        client.create("Invoice", payload, "ds-inv-42")
    assert caught.value.maybe_applied is True
    assert "may have been applied" in str(caught.value)
    assert isinstance(caught.value.__cause__, requests.exceptions.ConnectionError)
    assert fake.created["Invoice"] == 1
    assert fake.requests[-1]["status"] is None
    again = client.create("Invoice", payload, "ds-inv-42")["Invoice"]
    assert list(fake.objects["Invoice"]) == [again["Id"]]
    assert fake.created["Invoice"] == 1
    assert fake.replays == 1
    assert fake.requests[-1]["replay"] is True
    # Another request id is another invoice.
    client.create("Invoice", payload, "ds-inv-43")
    assert fake.created["Invoice"] == 2


def test_a_refusal_is_replayed_too_so_a_retry_after_a_fix_needs_a_new_id(fake, client):
    """Intuit: a repeated requestid gets "the same response as it did for the
    original request" - a refusal as well as a success."""
    customer = new_customer(client)
    payload = invoice_payload(customer["Id"], services_item(fake)["Id"])
    fake.edit("Customer", customer["Id"], {"Active": False})
    with pytest.raises(qb_errors.ObjectNotFound):
        client.create("Invoice", payload, "ds-inv-7-create")
    fake.edit("Customer", customer["Id"], {"Active": True})  # fixed
    with pytest.raises(qb_errors.ObjectNotFound):
        client.create("Invoice", payload, "ds-inv-7-create")
    assert fake.replays == 1
    created = client.create("Invoice", payload, "ds-inv-7-create-2")["Invoice"]
    assert list(fake.objects["Invoice"]) == [created["Id"]]


def test_drop_every_fifth_answer_still_one_object_each(fake, client):
    fake.drop_every(5, operations={"create"})
    ids = []
    for number in range(12):
        request_id = f"ds-customer-{number}"
        payload = {"DisplayName": f"Customer {number}"}
        try:
            answer = client.create("Customer", payload, request_id)
        except TransientError as error:
            assert error.maybe_applied is True
            answer = client.create("Customer", payload, request_id)
        ids.append(answer["Customer"]["Id"])
    creates = api_requests(fake, "create")
    assert len(creates) == 14
    assert [n for n, r in enumerate(creates, 1) if r["status"] is None] == [5, 10]
    assert fake.replays == 2
    assert fake.created["Customer"] == 12
    assert len(set(ids)) == 12
    assert sorted(fake.objects["Customer"]) == sorted(ids)


def test_server_errors_are_transient_and_not_applied(fake, client):
    fake.fail_next("create", 503)
    with pytest.raises(TransientError) as caught:
        new_customer(client)
    assert caught.value.status == 503
    assert not isinstance(caught.value, qb_errors.StaleObject)
    assert fake.objects["Customer"] == {}
    assert new_customer(client)["Id"] in fake.objects["Customer"]


def test_429_is_transient_with_a_minute_to_wait(fake, client):
    fake.fail_next("read", 429)
    with pytest.raises(TransientError) as caught:
        client.read("Customer", "1")
    error = caught.value
    assert error.status == 429
    assert error.code == "3001"
    assert error.retry_after == 60
    assert error.intuit_tid == client.last_tid


def test_slow_answer_times_out_as_transient_after_applying(fake, tokens):
    fake.slow_seconds = 2
    with QuickBooksClient(fake.api_url, fake.realm_id, tokens, timeout=1) as slow:
        tokens(False)  # the refresh is not what is timed
        fake.fail_next("create", "slow")
        started = time.monotonic()
        with pytest.raises(TransientError) as caught:
            new_customer(slow)
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 1.9
    assert "did not answer within 1 s" in str(caught.value)
    assert caught.value.maybe_applied is True
    assert isinstance(caught.value.__cause__, requests.exceptions.Timeout)
    assert fake.created["Customer"] == 1


def test_unreachable_server_is_transient_and_not_applied():
    url = f"http://127.0.0.1:{free_port()}"
    with QuickBooksClient(url, "1", lambda force: "token") as unreachable:
        with pytest.raises(TransientError) as caught:
            unreachable.read("Customer", "1")
    assert caught.value.maybe_applied is False
    assert "nothing was sent" in str(caught.value)
    with TokenClient(url + "/oauth2/v1/tokens/bearer", "id", "secret") as tokens:
        with pytest.raises(TransientError) as caught:
            tokens.refresh("rt")
    assert caught.value.maybe_applied is False


# --------------------------------------------------------------- tokens
def test_401_refreshes_once_through_the_provider_then_succeeds(fake, client, tokens):
    customer = new_customer(client)
    first_access = tokens.access
    fake.expire_access_tokens()
    again = client.read("Customer", customer["Id"])["Customer"]
    assert again["Id"] == customer["Id"]
    assert tokens.calls == [False, False, True]
    assert tokens.access != first_access
    reads = api_requests(fake, "read")
    assert [r["status"] for r in reads] == [401, 200]
    assert reads[0]["headers"]["Authorization"] == f"Bearer {first_access}"
    assert reads[1]["headers"]["Authorization"] == f"Bearer {tokens.access}"
    assert len(fake.refresh_tokens_used) == len(set(fake.refresh_tokens_used)) == 2


def test_a_second_401_is_token_expired_after_one_refresh(fake):
    calls = []

    def stale_token(force_refresh):
        calls.append(force_refresh)
        return "not-a-live-token"

    with QuickBooksClient(fake.api_url, fake.realm_id, stale_token) as client:
        with pytest.raises(qb_errors.TokenExpired) as caught:
            client.read("Customer", "1")
    assert calls == [False, True]
    assert [r["status"] for r in api_requests(fake)] == [401, 401]
    assert caught.value.status == 401
    assert caught.value.code == "3200"


def test_refresh_tokens_rotate_and_a_used_one_is_refused(fake):
    with TokenClient(fake.token_url, fake.client_id, fake.client_secret) as tokens:
        first = fake.refresh_token
        answer = tokens.refresh(first)
        assert answer["expires_in"] == 3600
        assert answer["refresh_token"] != first
        parsed = oauth.parse_token_response(answer, datetime.now(timezone.utc))
        assert parsed["refresh_token"] == answer["refresh_token"]
        with pytest.raises(InvalidGrant) as caught:
            tokens.refresh(first)
        assert caught.value.status == 400
        assert caught.value.code == "invalid_grant"
        assert caught.value.category == "technical"
        third = tokens.refresh(answer["refresh_token"])
    record = [r for r in fake.requests if r["operation"] == "token"][0]
    assert record["form"] == {"grant_type": "refresh_token", "refresh_token": first}
    expected = base64.b64encode(
        f"{fake.client_id}:{fake.client_secret}".encode()
    ).decode()
    assert record["headers"]["Authorization"] == f"Basic {expected}"
    assert record["headers"]["Accept"] == "application/json"
    assert fake.refresh_tokens_used == [first, first, answer["refresh_token"]]
    assert fake.invalid_grants == 1
    assert fake.valid_refresh_tokens() == {third["refresh_token"]}


def test_wrong_client_secret_is_an_oauth_error_not_invalid_grant(fake):
    with TokenClient(fake.token_url, fake.client_id, "wrong") as tokens:
        with pytest.raises(SyncError) as caught:
            tokens.refresh(fake.refresh_token)
    assert isinstance(caught.value, oauth.OAuthError)
    assert not isinstance(caught.value, InvalidGrant)
    assert caught.value.status == 401
    assert caught.value.code == "invalid_client"
    assert fake.valid_refresh_tokens() == {fake.refresh_token}


def test_token_answers_with_a_bom_and_failures(fake):
    with TokenClient(fake.token_url, fake.client_id, fake.client_secret) as tokens:
        fake.fail_next("token", 400, body=b'\xef\xbb\xbf{"error": "invalid_grant"}')
        with pytest.raises(InvalidGrant):
            tokens.refresh(fake.refresh_token)
        fake.fail_next("token", 503)
        with pytest.raises(TransientError) as caught:
            tokens.refresh(fake.refresh_token)
        assert caught.value.status == 503
        # Not applied: the refresh token still works.
        assert tokens.refresh(fake.refresh_token)["access_token"]


def test_authorization_code_exchange_and_revoke(fake):
    redirect = "https://odoo.example.com/distribution_sync/quickbooks/callback"
    code = fake.authorization_code(redirect)
    with TokenClient(fake.token_url, fake.client_id, fake.client_secret) as tokens:
        assert tokens.revoke_url == fake.revoke_url
        answer = tokens.exchange(code, redirect)
        assert fake.requests[-1]["form"] == {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
        }
        with pytest.raises(InvalidGrant):
            tokens.exchange(code, redirect)  # a code is used once
        assert tokens.revoke(answer["refresh_token"]) is True
        assert fake.requests[-1]["json"] == {"token": answer["refresh_token"]}
        with pytest.raises(InvalidGrant):
            tokens.refresh(answer["refresh_token"])
    with QuickBooksClient(
        fake.api_url, fake.realm_id, lambda force: answer["access_token"]
    ) as client:
        with pytest.raises(qb_errors.TokenExpired):
            client.read("Customer", "1")
    intuit = TokenClient(oauth.TOKEN_URL, "id", "secret")
    assert intuit.revoke_url == oauth.REVOKE_URL


def test_every_call_has_the_timeout(fake):
    session = RecordingSession()
    token_client = TokenClient(
        fake.token_url, fake.client_id, fake.client_secret, timeout=7, session=session
    )
    tokens = Tokens(fake, session=session)
    tokens.token_client = token_client
    client = QuickBooksClient(
        fake.api_url, fake.realm_id, tokens, timeout=7, session=session
    )
    invoice = new_invoice(client, fake)
    client.read("Invoice", invoice["Id"])
    client.update(
        "Invoice",
        {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"},
    )
    client.void("Invoice", invoice["Id"], "1")
    client.delete("Invoice", invoice["Id"], "2")
    client.query("SELECT * FROM Customer")
    client.batch([{"bId": "1", "Query": "SELECT * FROM Item"}], "b-1")
    client.cdc(["Invoice"], datetime.now(timezone.utc) - timedelta(hours=1))
    fake.expire_access_tokens()
    client.read("Customer", invoice["CustomerRef"]["value"])  # 401, refresh, again
    code = fake.authorization_code()
    answer = token_client.exchange(code, "https://example.com/cb")
    token_client.revoke(answer["refresh_token"])
    assert len(session.calls) == 15
    assert [call["timeout"] for call in session.calls] == [7] * 15
    client.close()  # a session passed in is left open for its owner
    token_client.close()
    assert session.adapters


# ------------------------------------------------------------------ batch
def test_batch_is_sent_ten_items_at_a_time_and_items_fail_alone(fake, client):
    customer = new_customer(client, "Batch 0")
    items = [
        {
            "bId": f"c{n}",
            "operation": "create",
            "Customer": {"DisplayName": f"Batch {n}"},
        }
        for n in range(1, 22)
    ]
    items += [
        {
            "bId": "stale",
            "operation": "update",
            "Customer": {"Id": customer["Id"], "SyncToken": "7", "sparse": True},
        },
        {
            "bId": "gone",
            "operation": "delete",
            "Invoice": {"Id": "9999", "SyncToken": "0"},
        },
        {"bId": "q", "Query": "SELECT * FROM Customer WHERE DisplayName = 'Batch 3'"},
    ]
    answers = client.batch(items, "ds-batch-1")
    calls = api_requests(fake, "batch")
    assert [len(r["json"]["BatchItemRequest"]) for r in calls] == [10, 10, 4]
    request_ids = [r["request_id"] for r in calls]
    assert request_ids[0] == "ds-batch-1"
    assert len(set(request_ids)) == 3
    assert all(len(rid) <= 36 for rid in request_ids)
    assert [a["bId"] for a in answers] == [item["bId"] for item in items]
    by_bid = {a["bId"]: a for a in answers}
    assert by_bid["c1"]["Customer"]["DisplayName"] == "Batch 1"
    assert batch_item_error(by_bid["c1"]) is None
    stale = batch_item_error(by_bid["stale"], client.last_tid)
    assert isinstance(stale, qb_errors.StaleObject)
    assert stale.batch_id == "stale"
    assert isinstance(batch_item_error(by_bid["gone"]), qb_errors.ObjectNotFound)
    query = by_bid["q"]["QueryResponse"]["Customer"]
    assert [c["DisplayName"] for c in query] == ["Batch 3"]
    assert fake.created["Customer"] == 22
    # The same batch again (a retry): answered from the request ids.
    assert client.batch(items, "ds-batch-1") == answers
    assert fake.replays == 3
    assert fake.created["Customer"] == 22


def test_fake_refuses_oversized_batches_and_request_ids(fake):
    url = f"{fake.api_url}/v3/company/{fake.realm_id}"
    headers = {"Authorization": f"Bearer {fake.access_token()}"}

    def post(path, body, request_id=None):
        params = {"requestid": request_id} if request_id else None
        return requests.post(
            f"{url}/{path}", json=body, params=params, headers=headers, timeout=5
        )

    items = [{"bId": str(n), "Query": "SELECT * FROM Item"} for n in range(31)]
    answer = post("batch", {"BatchItemRequest": items})
    assert answer.status_code == 400
    assert answer.json()["Fault"]["type"] == "ValidationFault"
    assert post("batch", {"BatchItemRequest": items[:30]}).status_code == 200
    long_bid = [{"bId": "b" * 11, "Query": "SELECT * FROM Item"}]
    assert post("batch", {"BatchItemRequest": long_bid}, "r1").status_code == 400
    assert post("batch", {"BatchItemRequest": long_bid}).status_code == 200
    assert post("customer", {"DisplayName": "A"}, "r" * 51).status_code == 400
    assert fake.objects["Customer"] == {}


def test_client_checks_its_arguments_before_sending(fake, client):
    with pytest.raises(PayloadError, match="minor version"):
        QuickBooksClient(fake.api_url, fake.realm_id, lambda f: "t", minor_version=74)
    with pytest.raises(PayloadError, match="request id"):
        client.create("Customer", {"DisplayName": "x"}, None)
    with pytest.raises(PayloadError, match="longer than 50"):
        client.create("Customer", {"DisplayName": "x"}, "r" * 51)
    with pytest.raises(PayloadError, match="longer than 36"):
        client.batch([{"bId": "1", "Query": "SELECT * FROM Item"}], "r" * 37)
    with pytest.raises(PayloadError, match="bId of its own"):
        client.batch([{"bId": "1"}, {"bId": "1"}])
    with pytest.raises(PayloadError, match="at most 10 characters"):
        client.batch([{"bId": "b" * 11, "Query": "SELECT * FROM Item"}], "r-1")
    with pytest.raises(PayloadError, match="SyncToken"):
        client.update("Customer", {"Id": "1"})
    with pytest.raises(PayloadError, match="not an amount"):
        client.create("Customer", {"Balance": Decimal("NaN")}, "r-nan")
    with pytest.raises(PayloadError, match="not a QuickBooks entity"):
        client.read("../query", "1")
    assert api_requests(fake) == []


# -------------------------------------------------------------------- cdc
def test_cdc_lists_changes_and_deletions_since_a_time(fake, client):
    since = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1)
    kept = new_invoice(client, fake, "inv-kept")
    gone = new_invoice(client, fake, "inv-gone")
    client.delete("Invoice", gone["Id"], "0")
    changes = client.cdc(["Invoice", "Customer", "Payment"], since)
    record = fake.requests[-1]
    assert record["query"]["entities"] == "Invoice,Customer,Payment"
    assert record["query"]["changedSince"].endswith("+00:00")  # naive is UTC
    assert [(i["Id"], i.get("status")) for i in changes["Invoice"]] == [
        (kept["Id"], None),
        (gone["Id"], "Deleted"),
    ]
    assert len(changes["Customer"]) == 2
    assert changes["Payment"] == []
    fake.advance_clock(120)
    later = client.cdc(["Invoice"], fake.now() - timedelta(seconds=30))
    assert later == {"Invoice": []}


def test_cdc_looks_back_30_days_at_most_and_answers_1000_objects(fake, client):
    with pytest.raises(PayloadError) as caught:
        client.cdc(["Invoice"], datetime.now(timezone.utc) - timedelta(days=31))
    assert not isinstance(caught.value, TransientError)
    assert "older than fixed days" in str(caught.value)
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    for number in range(1001):
        fake.add("Customer", {"DisplayName": f"Bulk {number}"})
    changes = client.cdc(["Customer"], since)
    assert len(changes["Customer"]) == 1000
    assert changes["Customer"][0]["DisplayName"] == "Bulk 0"  # oldest first


# ----------------------------------------------------------------- limits
def test_more_than_max_concurrent_requests_at_once_get_429():
    with FakeQuickBooks(max_concurrent=3, latency=1.0) as fake:
        access = fake.access_token()
        barrier = threading.Barrier(6)
        outcomes = []

        def read_company():
            with QuickBooksClient(
                fake.api_url, fake.realm_id, lambda force: access, timeout=5
            ) as client:
                barrier.wait()
                try:
                    client.read("CompanyInfo", fake.realm_id)
                    outcomes.append("ok")
                except TransientError as error:
                    outcomes.append(error.status)

        threads = [threading.Thread(target=read_company) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(outcomes, key=str) == [429, 429, 429, "ok", "ok", "ok"]
        assert fake.throttled == 3
        assert fake.peak_concurrency == 3
        throttles = [r["throttle"] for r in fake.requests if r["status"] == 429]
        assert throttles == ["concurrency"] * 3
        assert fake.errors == []


def test_per_minute_window_is_shared_by_threads_and_slides():
    with FakeQuickBooks(per_minute=10, window_seconds=2, max_concurrent=None) as fake:
        access = fake.access_token()
        outcomes = []
        lock = threading.Lock()

        def five_reads():
            with QuickBooksClient(
                fake.api_url, fake.realm_id, lambda force: access, timeout=5
            ) as client:
                for _ in range(5):
                    try:
                        client.read("CompanyInfo", fake.realm_id)
                        result = "ok"
                    except TransientError as error:
                        result = (error.status, error.retry_after)
                    with lock:
                        outcomes.append(result)

        started = time.monotonic()
        threads = [threading.Thread(target=five_reads) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert time.monotonic() - started < 2  # all inside one window
        assert outcomes.count("ok") == 10
        assert outcomes.count((429, 60)) == 10
        assert fake.throttled == 10
        assert {r["throttle"] for r in fake.requests if r["status"] == 429} == {"rate"}
        time.sleep(2.1)
        with QuickBooksClient(fake.api_url, fake.realm_id, lambda f: access) as late:
            assert late.read("CompanyInfo", fake.realm_id)["CompanyInfo"]
        assert fake.errors == []


# --------------------------------------------------------------- webhooks
LEGACY_VECTOR_BODY = (
    b'{"eventNotifications":[{"realmId":"1269959970","dataChangeEvent":{"entities":'
    b'[{"name":"Vendor","id":"40","operation":"Update","lastUpdated":'
    b'"2016-10-05T03:09:04.000Z"},{"name":"Customer","id":"43","operation":'
    b'"Create","lastUpdated":"2016-10-05T03:07:04.000Z"}]}}]}'
)


def test_signature_matches_the_documented_test_vector():
    assert fake_quickbooks.signature(
        "00faeec4-08d0-4996-bb37-698ae19f0149", LEGACY_VECTOR_BODY
    ) == ("6q+xGyMirJupwKTh2/WBl2NcdxzxqdIbk3sneKTxLWM=")


def test_webhook_builders_sign_both_shapes_and_mix_companies(fake, client):
    other = "4620816365"
    fake.add_realm(other)
    invoice = new_invoice(client, fake)
    entities = [
        ("Invoice", invoice["Id"], "Update"),
        (other, "Payment", "5", "Create"),
        ("CreditMemo", "8", "Void"),
    ]
    body, headers = fake.legacy_event(entities)
    expected = base64.b64encode(
        hmac.new(fake.verifier_token.encode(), body, hashlib.sha256).digest()
    ).decode()
    assert headers["intuit-signature"] == expected
    data = json.loads(body)
    assert [n["realmId"] for n in data["eventNotifications"]] == [fake.realm_id, other]
    first = data["eventNotifications"][0]["dataChangeEvent"]["entities"][0]
    assert first["lastUpdated"].endswith("Z")
    assert webhook.verify(fake.verifier_token, body, headers)
    assert not webhook.verify("another token", body, headers)
    legacy = [
        (e["realm_id"], e["entity"], e["entity_id"], e["operation"], e["format"])
        for e in webhook.events(data)
    ]
    assert legacy == [
        (fake.realm_id, "Invoice", invoice["Id"], "Update", "legacy"),
        (fake.realm_id, "CreditMemo", "8", "Void", "legacy"),
        (other, "Payment", "5", "Create", "legacy"),
    ]
    body, headers = fake.cloudevents(entities)
    assert webhook.verify(fake.verifier_token, body, headers)
    events = json.loads(body)
    assert [e["type"] for e in events] == [
        "qbo.invoice.updated.v1",
        "qbo.payment.created.v1",
        "qbo.creditmemo.voided.v1",
    ]
    assert [e["intuitaccountid"] for e in events] == [
        fake.realm_id,
        other,
        fake.realm_id,
    ]
    assert len({e["id"] for e in events}) == 3
    parsed = webhook.events(events)
    assert [(e["entity"], e["entity_id"], e["operation"]) for e in parsed] == [
        ("Invoice", invoice["Id"], "Update"),
        ("Payment", "5", "Create"),
        ("CreditMemo", "8", "Void"),
    ]
    assert all(e["format"] == "cloudevents" for e in parsed)


def test_fail_next_refuses_unknown_operations_and_modes(fake):
    with pytest.raises(ValueError, match="Unknown operation"):
        fake.fail_next("purchase", 500)
    with pytest.raises(ValueError, match="Unknown failure mode"):
        fake.fail_next("create", "explode")
    with pytest.raises(ValueError, match="Unknown operations"):
        fake.drop_every(5, operations={"token"})
