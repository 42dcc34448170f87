# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import hmac
import json
import secrets
from datetime import timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.distribution_sync.core.errors import PayloadError, SyncError
from odoo.addons.distribution_sync.core.idempotency import body_key, payload_digest
from odoo.addons.distribution_sync.core.states import FINAL_STATES

from ..core import mappers, oauth, webhook
from ..core import topics as quickbooks_topics
from ..core.client import (
    MAX_BATCHES_PER_MINUTE,
    MAX_CONCURRENT,
    MAX_PER_MINUTE,
    QuickBooksClient,
    TokenClient,
)

PRODUCTION_URL = "https://quickbooks.api.intuit.com"
SANDBOX_URL = "https://sandbox-quickbooks.api.intuit.com"
CALLBACK_PATH = "/distribution_sync/quickbooks/oauth/callback"
# Outbound topics (record: the account.move).
TOPIC_INVOICE = "invoice/create"
TOPIC_CREDIT_MEMO = "creditmemo/create"
TOPIC_VOID = "invoice/void"
# Outbound, record: the account.payment (when Odoo owns payments).
TOPIC_PAYMENT = "payment/create"
# The bulk send: invoices per click, and per job (one batch request each).
BULK_LIMIT = 2000
BULK_JOB_SIZE = 10
# A token is refreshed this long before it expires.
REFRESH_MARGIN = 300
# Refresh tokens close to their end (100 days, rolling) are reported this early.
REFRESH_WARNING_DAYS = 14


def _utc(value):
    return value and value.replace(tzinfo=timezone.utc)


class DistributionSyncBackend(models.Model):
    """The ``quickbooks`` channel: QuickBooks Online, one backend per company
    (realm).

    Tokens: an access token lives an hour; it is refreshed with the refresh
    token, which QuickBooks may replace on any refresh: the new one is stored
    at once, in a transaction of its own under a row lock on the backend,
    before the access token is used (``_quickbooks_access_token``).

    Outbound (Odoo owns invoices): posted customer invoices and credit notes
    become one QuickBooks ``Invoice``/``CreditMemo`` each, their customer and
    items matched or created first; every create carries a ``requestid`` made
    from the database, the Odoo record and the operation, so a retry after a
    lost answer gets the first answer back instead of a second object.

    When Odoo owns payments (the ownership matrix), each posted customer
    payment becomes one QuickBooks ``Payment`` linked to the invoices it
    settles.

    Inbound: webhooks (``intuit-signature``) in both shapes, one POST for any
    number of companies, each event routed to the backend of its realm; the
    entity is read afterwards. Payments applied to synced invoices register
    and reconcile the Odoo payment when QuickBooks owns payments.
    """

    _inherit = "distribution.sync.backend"

    backend_type = fields.Selection(
        selection_add=[("quickbooks", "QuickBooks Online")],
        ondelete={"quickbooks": lambda backends: backends._quickbooks_keep()},
    )

    def _quickbooks_topic_labels(self):
        """Readable labels of the QuickBooks topics, in the user's language."""
        return {
            key: self.env._(label)
            for key, label in quickbooks_topics.TOPIC_LABELS.items()
        }

    quickbooks_realm_id = fields.Char(
        string="QuickBooks company (realm) id", index=True, copy=False
    )
    quickbooks_client_id = fields.Char(string="QuickBooks app client id")
    quickbooks_client_secret = fields.Char(
        string="QuickBooks app client secret",
        compute="_compute_secret_fields",
        inverse="_inverse_quickbooks_client_secret",
        help="Stored encrypted, never shown again: type a new value to replace it.",
    )
    quickbooks_refresh_token = fields.Char(
        string="QuickBooks refresh token",
        compute="_compute_secret_fields",
        inverse="_inverse_quickbooks_refresh_token",
        help="Set by Connect to QuickBooks; stored encrypted, never shown again.",
    )
    quickbooks_token_url = fields.Char(
        string="QuickBooks token URL", default=oauth.TOKEN_URL
    )
    quickbooks_client_secret_set = fields.Boolean(
        compute="_compute_secret_fields", string="Client secret is set"
    )
    quickbooks_connected = fields.Boolean(
        compute="_compute_quickbooks_connected", string="Connected to QuickBooks"
    )
    quickbooks_access_expires_at = fields.Datetime(readonly=True, copy=False)
    quickbooks_refresh_expires_at = fields.Datetime(
        string="Refresh token valid until", readonly=True, copy=False
    )
    quickbooks_default_item_ref = fields.Char(
        string="QuickBooks item for lines without product",
        help="Id of the QuickBooks item (e.g. Services) used for invoice lines "
        "that have no Odoo product.",
    )
    quickbooks_income_account_ref = fields.Char(
        string="Income account id", help="QuickBooks account of new items' sales."
    )
    quickbooks_expense_account_ref = fields.Char(
        string="Expense account id", help="QuickBooks account of new items' cost."
    )
    quickbooks_asset_account_ref = fields.Char(
        string="Inventory asset account id",
        help="QuickBooks account of new inventory items.",
    )

    def _secret_fields(self):
        return super()._secret_fields() + [
            "quickbooks_client_secret",
            "quickbooks_refresh_token",
        ]

    def _code_only_fields(self):
        return super()._code_only_fields() | {
            "quickbooks_access_expires_at",
            "quickbooks_refresh_expires_at",
        }

    def _inverse_quickbooks_client_secret(self):
        self._inverse_secret("quickbooks_client_secret")

    def _inverse_quickbooks_refresh_token(self):
        self._inverse_secret("quickbooks_refresh_token")

    def _compute_quickbooks_connected(self):
        secrets_model = self.env["distribution.sync.secret"].sudo()
        for backend in self:
            backend.quickbooks_connected = bool(
                backend.id
                and backend.backend_type == "quickbooks"
                and secrets_model.search_count(
                    [
                        ("backend_id", "=", backend.id),
                        ("key", "=", "quickbooks_refresh_token"),
                    ]
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("backend_type") == "quickbooks" and not vals.get("api_url"):
                vals["api_url"] = PRODUCTION_URL
        return super().create(vals_list)

    @api.onchange("environment")
    def _onchange_quickbooks_environment(self):
        urls = {"sandbox": SANDBOX_URL, "production": PRODUCTION_URL}
        for backend in self.filtered(lambda b: b.backend_type == "quickbooks"):
            if backend.api_url in (False, SANDBOX_URL, PRODUCTION_URL):
                backend.api_url = urls.get(backend.environment, PRODUCTION_URL)

    def _quickbooks_keep(self):
        self.write({"backend_type": "generic", "active": False})

    # ------------------------------------------------------------------ verbs
    def _quickbooks_default_ownership(self):
        """Odoo owns invoices, customers and products; QuickBooks owns the
        payments (the accountant records them there)."""
        return [
            {
                "entity": row["entity"],
                "owner": "channel" if row["entity"] == "payment" else "odoo",
            }
            for row in self._default_default_ownership()
        ]

    def _quickbooks_request_limits(self):
        """500 requests a minute and 10 at once per company, across every
        worker (QuickBooks answers 429 beyond)."""
        return (MAX_PER_MINUTE, 60, MAX_CONCURRENT)

    def _quickbooks_health(self):
        """The connection lasts while its refresh token does."""
        return {"token_expires_at": self.quickbooks_refresh_expires_at}

    def _quickbooks_credentials_set(self):
        # Calls go out once connected: the refresh token and the company.
        return bool(self.quickbooks_connected and self.quickbooks_realm_id)

    def _quickbooks_test_connection(self):
        info = self._quickbooks_client().read("CompanyInfo", self.quickbooks_realm_id)
        name = (info.get("CompanyInfo") or info).get("CompanyName") or "-"
        return self.env._("Connected to QuickBooks company %s.", name)

    def _quickbooks_webhook_verify(self, body, headers, query=None):
        secret = self._get_secret("webhook_secret")
        return bool(secret) and webhook.verify(secret, body, headers)

    def _quickbooks_webhook_identity(self, body, headers, data):
        # One event per delivery never happens with QuickBooks: see events.
        raise PayloadError(self.env._("QuickBooks deliveries are read as events."))

    def _quickbooks_webhook_events(self, body, headers, data):
        """One message per entity change, on the backend of its realm; a
        realm no backend follows is stored and skipped."""
        if not isinstance(data, (dict, list)):
            return [
                {
                    "topic": "invalid",
                    "idempotency_key": self._quickbooks_body_key(body),
                }
            ]
        try:
            changes = webhook.events(data)
        except PayloadError as exc:
            return [
                {
                    "topic": "invalid",
                    "idempotency_key": self._quickbooks_body_key(body),
                    "problem": str(exc),
                }
            ]
        realms = {change["realm_id"] for change in changes}
        backends = {
            backend.quickbooks_realm_id: backend
            for backend in self.sudo().search(
                [
                    ("backend_type", "=", "quickbooks"),
                    ("quickbooks_realm_id", "in", list(realms)),
                ]
            )
        }
        events = []
        for change in changes:
            target = backends.get(change["realm_id"])
            event = {
                "topic": f"{change['entity']}/{change['operation']}".lower(),
                "idempotency_key": f"quickbooks:{change['event_id']}"[:250],
                "external_id": change["entity_id"],
                "work_key": f"quickbooks:{change['entity']}:{change['entity_id']}",
                "payload": json.dumps(change, default=str, sort_keys=True),
                "backend": target or self,
            }
            if not target:
                event["skip"] = self.env._(
                    "No QuickBooks backend follows company %s.", change["realm_id"]
                )
            events.append(event)
        return events

    @staticmethod
    def _quickbooks_body_key(body):
        return body_key(body)

    def _quickbooks_process_message(self, message):
        return self.env["distribution.sync.quickbooks.importer"]._process(self, message)

    def _quickbooks_push_record(self, message):
        return self.env["distribution.sync.quickbooks.exporter"]._push(self, message)

    def _quickbooks_on_invoice_posted(self, moves):
        """Queue each posted customer invoice and credit note (once)."""
        if not self.quickbooks_realm_id:
            return
        for move in moves:
            self._quickbooks_move_message(move)

    def _quickbooks_move_message(self, move, enqueue=True):
        """The outbound message of a posted invoice or credit note, keyed on
        its content: posted again unchanged, it is the same message; changed
        and posted again, a new one (an update)."""
        topic = TOPIC_CREDIT_MEMO if move.move_type == "out_refund" else TOPIC_INVOICE
        digest = payload_digest(
            json.dumps(
                move._prepare_distribution_sync_invoice(), sort_keys=True, default=str
            )
        )
        return self._push(
            move,
            topic,
            {"move": move.name, "move_type": move.move_type},
            "invoice",
            key=f"quickbooks:{topic}:{move.id}:{digest}",
            work_key=f"account.move:{move.id}",
            enqueue=enqueue,
        )

    def action_quickbooks_send_invoices(self):
        """Send the company's posted customer invoices and credit notes that
        QuickBooks does not have (posted before the connection, say), at most
        ``BULK_LIMIT`` per click, ten per QuickBooks request (batch)."""
        self.ensure_one()
        self.check_access("write")
        if not self.quickbooks_connected or not self.quickbooks_realm_id:
            raise UserError(self.env._("Connect to QuickBooks first."))
        if not self._ownership_matrix().may_push("invoice"):
            raise UserError(
                self.env._(
                    "QuickBooks owns invoices on %s: nothing to send.", self.name
                )
            )
        moves = self._quickbooks_moves_to_send()
        backend = self.sudo()
        messages = self.env["distribution.sync.message"].sudo()
        for move in moves:
            messages |= backend._quickbooks_move_message(move, enqueue=False)
        messages = messages.filtered(lambda m: m.state == "received")
        for start in range(0, len(messages), BULK_JOB_SIZE):
            chunk = messages[start : start + BULK_JOB_SIZE]
            delayed = chunk._delayed(
                backend,
                self.env._(
                    "%(backend)s: %(count)s invoices in a batch",
                    backend=self.name,
                    count=len(chunk),
                ),
                "distribution_sync:quickbooks_batch:"
                + ",".join(str(i) for i in chunk.ids),
            )
            chunk._mark_queued(delayed._quickbooks_send_batch_job())
        return self._notification(
            self.env._("Send to QuickBooks"),
            self.env._(
                "%(count)s invoices and credit notes queued, ten per "
                "QuickBooks request.",
                count=len(messages),
            )
            if messages
            else self.env._("QuickBooks has every posted invoice already."),
        )

    def _quickbooks_moves_to_send(self):
        """Posted customer invoices and credit notes of the company that have
        no QuickBooks object and no message on the way, oldest first."""
        bound = (
            self.env["distribution.sync.binding"]
            .sudo()
            .search([("backend_id", "=", self.id), ("res_model", "=", "account.move")])
        )
        on_the_way = (
            self.env["distribution.sync.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("direction", "=", "outbound"),
                    ("res_model", "=", "account.move"),
                    ("state", "not in", list(FINAL_STATES)),
                ]
            )
        )
        return self.env["account.move"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("id", "not in", bound.mapped("res_id") + on_the_way.mapped("res_id")),
            ],
            order="invoice_date, id",
            limit=BULK_LIMIT,
        )

    def _quickbooks_on_payment_registered(self, payments):
        """Queue each customer payment (once) when Odoo owns payments on this
        backend (``_push`` asks the ownership matrix); the job finds the
        invoices it settles."""
        if not self.quickbooks_realm_id:
            return
        for payment in payments:
            self._push(
                payment,
                TOPIC_PAYMENT,
                {"payment": payment.name},
                "payment",
                key=f"quickbooks:{TOPIC_PAYMENT}:{payment.id}",
                work_key=f"account.payment:{payment.id}",
            )

    def _quickbooks_fetch_changes(self, since, cursor=None):
        return self.env["distribution.sync.quickbooks.importer"]._fetch_changes(
            self, since, cursor
        )

    # ------------------------------------------------------------------ tokens
    def _quickbooks_token_client(self):
        self.ensure_one()
        return TokenClient(
            self.quickbooks_token_url or oauth.TOKEN_URL,
            self.quickbooks_client_id or "",
            self._get_secret("quickbooks_client_secret") or "",
            timeout=self.request_timeout or 20,
        )

    def _quickbooks_tokens_seen(self):
        """Tokens this transaction got from a refresh: its snapshot cannot
        see what the refresh's own transaction committed."""
        return self.env.cr.cache.setdefault("distribution_sync_quickbooks_tokens", {})

    def _quickbooks_access_token(self, force_refresh=False):
        """A valid access token; refreshed when it is missing, expiring, or
        refused (``force_refresh``, after a 401)."""
        self.ensure_one()
        now = fields.Datetime.now()
        seen = self._quickbooks_tokens_seen().get(self.id)
        if seen:
            token, expires = seen["access"], seen["expires"]
        else:
            token = self._get_secret("quickbooks_access_token")
            expires = self.sudo().quickbooks_access_expires_at
        if (
            token
            and not force_refresh
            and expires
            and not oauth.refresh_due(_utc(expires), _utc(now), margin=REFRESH_MARGIN)
        ):
            return token
        return self._quickbooks_refresh(refused=token if force_refresh else None)

    def _quickbooks_refresh(self, refused=None):
        """Refresh the tokens in a transaction of their own, under a row lock
        on the backend: workers that need a token at the same time wait, then
        use the one the first got. The new refresh token is committed before
        the access token is used (QuickBooks may end the old one)."""
        self.ensure_one()
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr, su=True)
            backend = env[self._name].browse(self.id)
            if not self.env.registry.in_test_mode():
                # Each read after the lock must see what the worker that held
                # it committed (a test's cursor shares the test transaction).
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            # Bounded, should anything hold the row long; the job is then
            # retried.
            cr.execute("SET LOCAL lock_timeout = '15s'")
            # Not FOR UPDATE: that would wait for every transaction that
            # inserted a row pointing to the backend (a binding, a message),
            # the caller's own included.
            cr.execute(
                "SELECT id FROM distribution_sync_backend WHERE id = %s"
                " FOR NO KEY UPDATE",
                [self.id],
            )
            store = env["distribution.sync.secret"]
            now = fields.Datetime.now()
            current = store._get_fresh(backend, "quickbooks_access_token")
            cr.execute(
                "SELECT quickbooks_access_expires_at FROM distribution_sync_backend "
                "WHERE id = %s",
                [self.id],
            )
            expires = cr.fetchone()[0]
            if (
                current
                and current != refused
                and expires
                and not oauth.refresh_due(_utc(expires), _utc(now), REFRESH_MARGIN)
            ):
                # Another worker refreshed while this one waited.
                self._quickbooks_tokens_seen()[self.id] = {
                    "access": current,
                    "expires": expires,
                }
                return current
            refresh_token = store._get_fresh(backend, "quickbooks_refresh_token")
            seen = self._quickbooks_tokens_seen().get(self.id) or {}
            if refresh_token and refresh_token == seen.get("replaced"):
                # This transaction rotated it already, in a savepoint rolled
                # back since (a failed message's): the newer one is the valid
                # one.
                refresh_token = seen["refresh"]
            if not refresh_token:
                raise oauth.InvalidGrant(
                    self.env._(
                        "%s is not connected to QuickBooks (no refresh token).",
                        self.name,
                    ),
                    hint=self.env._(
                        "Press Connect to QuickBooks on the backend, then retry."
                    ),
                )
            tokens = oauth.parse_token_response(
                backend._quickbooks_token_client().refresh(refresh_token), _utc(now)
            )
            store._set(backend, "quickbooks_refresh_token", tokens["refresh_token"])
            store._set(backend, "quickbooks_access_token", tokens["access_token"])
            access_expires = tokens["access_expires_at"].replace(tzinfo=None)
            cr.execute(
                "UPDATE distribution_sync_backend"
                " SET quickbooks_access_expires_at = %s,"
                " quickbooks_refresh_expires_at = %s WHERE id = %s",
                [
                    access_expires,
                    tokens["refresh_expires_at"]
                    and tokens["refresh_expires_at"].replace(tzinfo=None),
                    self.id,
                ],
            )
            # Leaving the block commits this cursor: the new refresh token is
            # stored before anybody uses the access token.
        self._quickbooks_tokens_seen()[self.id] = {
            "access": tokens["access_token"],
            "expires": access_expires,
            "refresh": tokens["refresh_token"],
            "replaced": refresh_token,
        }
        self.invalidate_recordset(
            ["quickbooks_access_expires_at", "quickbooks_refresh_expires_at"]
        )
        return tokens["access_token"]

    def _quickbooks_client(self):
        """A client of this company, with this backend's tokens."""
        self.ensure_one()
        if not self.quickbooks_realm_id:
            raise SyncError(
                self.env._("%s has no QuickBooks company id.", self.name),
                hint=self.env._("Connect to QuickBooks, then retry."),
            )
        return QuickBooksClient(
            self.api_url or PRODUCTION_URL,
            self.quickbooks_realm_id,
            self._quickbooks_access_token,
            timeout=self.request_timeout or 20,
            limiter=self._request_limiter(),
            batch_limiter=self._request_limiter(
                "batch", (MAX_BATCHES_PER_MINUTE, 60, None)
            ),
        )

    # ---------------------------------------------------------------- connect
    def _quickbooks_redirect_uri(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        return f"{base.rstrip('/')}{CALLBACK_PATH}"

    def _quickbooks_state_key(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.secret")

    def action_quickbooks_connect(self):
        """Open Intuit's consent page; its answer comes back to the callback
        route with a ``state`` only this database can have signed."""
        self.ensure_one()
        self.check_access("write")
        if not self.quickbooks_client_id:
            raise UserError(
                self.env._("Set the QuickBooks app's client id and secret first.")
            )
        nonce = secrets.token_urlsafe(16)
        self.env["distribution.sync.secret"]._set(self, "quickbooks_oauth_nonce", nonce)
        state = oauth.make_state(self._quickbooks_state_key(), self.id, nonce)
        return {
            "type": "ir.actions.act_url",
            "target": "self",
            "url": oauth.authorize_url(
                self.quickbooks_client_id, self._quickbooks_redirect_uri(), state
            ),
        }

    def _quickbooks_connect_callback(self, code, state, realm_id):
        """Finish the consent: check the state, exchange the code, store the
        company and the tokens. Returns the backend."""
        backend_id = oauth.read_state(self._quickbooks_state_key(), state)
        backend = self.browse(backend_id).exists()
        if not backend or backend.backend_type != "quickbooks":
            raise UserError(self.env._("This QuickBooks answer is for no backend."))
        backend.check_access("write")
        store = self.env["distribution.sync.secret"]
        nonce = store._get_fresh(backend, "quickbooks_oauth_nonce")
        expected = nonce and oauth.make_state(
            self._quickbooks_state_key(), backend.id, nonce
        )
        if not expected or not hmac.compare_digest(expected, state):
            raise UserError(
                self.env._("This QuickBooks answer was used already or is too old.")
            )
        store._set(backend, "quickbooks_oauth_nonce", False)
        try:
            data = backend._quickbooks_token_client().exchange(
                code, backend._quickbooks_redirect_uri()
            )
        except SyncError as exc:
            raise UserError(str(exc)) from exc
        tokens = oauth.parse_token_response(data, _utc(fields.Datetime.now()))
        store._set(backend, "quickbooks_refresh_token", tokens["refresh_token"])
        store._set(backend, "quickbooks_access_token", tokens["access_token"])
        backend.sudo().write(
            {
                "quickbooks_realm_id": realm_id,
                "quickbooks_access_expires_at": tokens["access_expires_at"].replace(
                    tzinfo=None
                ),
                "quickbooks_refresh_expires_at": tokens["refresh_expires_at"]
                and tokens["refresh_expires_at"].replace(tzinfo=None),
            }
        )
        backend._audit("connect", note=realm_id)
        return backend

    def action_quickbooks_disconnect(self):
        """Revoke the refresh token at Intuit and forget the tokens."""
        self.ensure_one()
        self.check_access("write")
        store = self.env["distribution.sync.secret"]
        refresh_token = store._get_fresh(self, "quickbooks_refresh_token")
        if refresh_token:
            try:
                self._quickbooks_token_client().revoke(refresh_token)
            except SyncError as exc:
                raise UserError(str(exc)) from exc
        for key in ("quickbooks_refresh_token", "quickbooks_access_token"):
            store._set(self, key, False)
        self.sudo().write(
            {
                "quickbooks_access_expires_at": False,
                "quickbooks_refresh_expires_at": False,
            }
        )
        self._audit("disconnect")
        return True

    @api.model
    def _cron_quickbooks_token_watch(self):
        """Open a critical exception for each connection whose refresh token
        ends within two weeks: reconnecting then costs a click, not a day of
        unsynced invoices."""
        limit = fields.Datetime.now() + timedelta(days=REFRESH_WARNING_DAYS)
        for backend in self.search(
            [
                ("backend_type", "=", "quickbooks"),
                ("quickbooks_refresh_expires_at", "!=", False),
                ("quickbooks_refresh_expires_at", "<=", limit),
            ]
        ):
            backend._open_exception(
                "technical",
                self.env._(
                    "The QuickBooks connection of %(backend)s ends on %(date)s.",
                    backend=backend.name,
                    date=backend.quickbooks_refresh_expires_at.date(),
                ),
                severity="critical",
                record=backend,
                work_key=f"quickbooks:refresh_token:{backend.id}",
                hint=self.env._("Press Connect to QuickBooks on the backend."),
            )
        return True

    def _quickbooks_request_id(self, record, operation):
        """The ``requestid`` of one operation on one Odoo record: the same on
        every retry, different for another database (a copy of production
        talking to the same company must not get production's answers)."""
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        # After a refusal a person fixed, the same operation is a new request
        # (see the exporter's ``_refusals``).
        round_ = self.env.context.get("distribution_sync_quickbooks_round") or 0
        return mappers.request_id(uuid, record._name, record.id, operation, round_)
