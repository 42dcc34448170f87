# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)

from contextlib import contextmanager

import requests

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.queue_job.exception import JobError

from ..core import ownership as core_ownership
from ..core.errors import SyncError

# Document events a channel can listen to, with the records they carry: a
# channel implements ``_<type>_on_<event>(records)`` (see ``_notify``).
DOCUMENT_EVENTS = {
    "delivery_validated": "stock.picking (outgoing, done)",
    "stock_moved": "stock.move (done, storable products)",
    "invoice_posted": "account.move (customer invoices and credit notes)",
    "payment_registered": "account.payment (posted, inbound)",
    "tracking_changed": "stock.picking (tracking number or carrier status changed; "
    "sent by carrier channels)",
}

# Payment statuses an imported order can have (``financial_status`` of the
# canonical order), offered as check boxes for ``confirm_statuses``.
PAYMENT_STATUSES = (
    ("pending", "Pending"),
    ("authorized", "Authorized"),
    ("partially_paid", "Partially paid"),
    ("paid", "Paid"),
    ("partially_refunded", "Partially refunded"),
    ("refunded", "Refunded"),
    ("voided", "Voided"),
)

WEBHOOK_ROUTE = "/distribution_sync/webhook/%s"

# What an outside system can fail with when a person presses a button: the
# sync's own errors, and those of the HTTP stack and sockets a client did not
# translate.
OUTSIDE_ERRORS = (SyncError, JobError, requests.exceptions.RequestException, OSError)


class DistributionSyncBackend(models.Model):
    """One connection to one outside system.

    Channel addons plug in like ``delivery.carrier`` providers: they extend
    ``backend_type`` with ``selection_add`` and implement ``_<type>_<verb>``
    methods. The core calls them through :meth:`_call`; a verb that a type does
    not implement falls back to the ``_default_<verb>`` method when there is one.

    Verbs (``self`` is one backend):

    * ``_<type>_webhook_verify(body: bytes, headers, query) -> bool``: the
      sender's proof (a signature of the body, or a token in the URL's query
      parameters ``query`` for senders that sign nothing).
    * ``_<type>_webhook_identity(body, headers, data) -> dict``: ``topic``,
      ``idempotency_key`` (required), ``external_id``, ``api_version``,
      ``work_key`` (what "the same work" means for auto-resolution); ``data``
      is the parsed JSON or ``None`` when the body is not JSON.
    * ``_<type>_webhook_events(body, headers, data) -> list[dict]``: for
      channels whose one delivery holds several events (default: the one
      event of ``webhook_identity``): each an identity dict plus, optionally,
      ``payload`` (the event's own body), ``backend`` (another backend of
      the same channel it belongs to, e.g. by account), ``problem`` (why
      it cannot be processed: stored with an exception instead) and ``skip``
      (why nothing is to be done: stored as skipped).
    * ``_<type>_order_channel() -> bool``: the channel brings sales orders
      (shipping product, confirming statuses, sale-order checks apply).
    * ``_<type>_process_message(message) -> dict``: apply one inbound message
      inside a savepoint. Raise ``core.errors.SyncError`` subclasses for
      business problems (they become exceptions), ``TransientError`` (or a
      network error) for what a retry may fix. Return ``{"res_model",
      "res_id", "state" ("done"/"skipped"), "summary", "canonical",
      "odoo_values"}``; every key is optional.
    * ``_<type>_push_record(message) -> dict``: send one outbound message;
      return ``{"external_id": ...}``.
    * ``_<type>_fetch_changes(since: datetime | None, cursor: str | None)
      -> (list[dict], str | None)``: one page (a bounded amount of work: one
      job does one page) of the events changed since ``since``, from
      ``cursor`` (``None``: the first page), as ``{"topic",
      "idempotency_key", "external_id", "work_key", "payload"}`` dicts, and
      the cursor of the next page (``None`` after the last one). The events
      go through the same intake as webhooks.
    * ``_<type>_on_<event>(records)``: a document event of Odoo (a delivery
      validated, stock moved, an invoice posted, a payment registered:
      ``DOCUMENT_EVENTS``), for the records of the
      backend's company; queue the work (``_push``), do not call out. Without
      it the core's ``_default_on_<event>`` runs when there is one (stock
      moved: the stock push of the stock verbs below).
    * ``_<type>_stock_bindings() -> distribution.sync.binding``: the
      bindings of the products whose stock the channel takes (external id:
      the channel's item). With ``stock_quantities``, what makes a channel
      take stock (``*_stock_mixin``: debounced, from a checkpoint, one
      outbound message of ``stock_topic`` per push, sent by ``push_record``).
    * ``_<type>_stock_quantities(bindings) -> list[dict]``: the rows to send
      for those products, read now (JSON values, the same stock giving the
      same list).
    * ``_<type>_stock_ready() -> bool``: the channel is set up to take stock
      (e.g. a location mapped; default: true); no push is queued otherwise.
    * ``_<type>_stock_topic() -> str``: topic of the stock messages (default
      ``inventory/set``).
    * ``_<type>_test_connection() -> str``: a short success text, or raise.
    * ``_<type>_credentials_set() -> bool``: what the channel needs to call
      out is filled in (default: an API URL); the buttons that call out are
      hidden until then.
    * ``_<type>_topic_labels() -> dict``: readable labels of the channel's
      topics (``{topic or (direction, topic): label}``; default: none).
    * ``_<type>_document_url(record, external_id) -> str | None``: the page
      of a bound record in the channel's admin (default: none).
    * ``_<type>_default_ownership() -> list[dict]``: ownership rows created
      with a new backend (``entity``, ``owner``, optional ``field_name``,
      ``on_conflict``).
    * ``_<type>_default_validation_rules() -> list[dict]``.
    * ``_<type>_request_limits() -> (per_window, window_seconds,
      at_once)``: the outside system's documented request limits (default:
      none), kept across every worker by ``distribution.sync.request.slot``
      when a client takes ``_request_limiter()``; the backend's own settings
      override them.

    * ``_<type>_health() -> dict``: ``token_expires_at`` (datetime) and
      ``api_support_end`` (date) when the channel has them, for the overview.

    Creating or saving a backend never calls the outside system.

    This file is the setup of a backend and the dispatch to its channel; the
    rest is split by concern into mixins: secrets (``*_secrets_mixin``),
    intake of webhooks and fetched changes (``*_intake_mixin``), outbound
    messages and HTTP (``*_push_mixin``), ownership, mappings and retries
    (``*_rules_mixin``) and the dashboard (``*_dashboard_mixin``).
    """

    _name = "distribution.sync.backend"
    _description = "Distribution Sync Backend"
    _inherit = [
        "mail.thread",
        "distribution.sync.backend.secrets.mixin",
        "distribution.sync.backend.intake.mixin",
        "distribution.sync.backend.push.mixin",
        "distribution.sync.backend.rules.mixin",
        "distribution.sync.backend.dashboard.mixin",
        "distribution.sync.backend.stock.mixin",
    ]
    _order = "sequence, name, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    backend_type = fields.Selection(
        [("generic", "Generic JSON (reference)")],
        string="Channel",
        required=True,
        default="generic",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
        tracking=True,
    )
    active = fields.Boolean(default=True, tracking=True)
    environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")],
        required=True,
        default="sandbox",
        tracking=True,
    )
    api_url = fields.Char(string="API URL", tracking=True)
    api_version = fields.Char(string="API version", tracking=True)
    request_timeout = fields.Integer(
        default=20, help="Seconds before any call to the outside system gives up."
    )
    request_limit = fields.Integer(
        string="Requests per window",
        help="At most this many requests to the outside system in any window "
        "(below), counted across every worker and server. 0: the limit the "
        "channel documents (QuickBooks: 500 a minute).",
    )
    request_limit_window = fields.Integer(
        string="Window (seconds)",
        default=60,
        help="Length of the sliding window of the request limit.",
    )
    request_limit_concurrent = fields.Integer(
        string="Requests at once",
        help="At most this many requests under way at the same time. 0: the "
        "limit the channel documents (QuickBooks: 10).",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Technical user",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="Least-privilege user the synchronisation jobs of this backend run as.",
    )
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Exception owner",
        default=lambda self: self.env.user,
        help="Gets a to-do activity for each new exception of this backend.",
    )
    channel_id = fields.Many2one(
        "queue.job.channel",
        string="Job channel",
        copy=False,
        # A channel removed with its addon must not block the uninstallation;
        # the jobs then run in the root channel.
        ondelete="set null",
        help="queue_job channel the jobs of this backend run in (its capacity is "
        "set in the server configuration).",
    )
    channel_name = fields.Char(
        related="channel_id.complete_name",
        store=True,
        string="Job channel name",
        help="Kept on the backend: the webhook route queues a job for every event.",
    )
    max_attempts = fields.Integer(
        default=5, help="Attempts before a message that keeps failing is dead."
    )
    exception_sla_hours = fields.Float(
        string="Exception SLA (hours)",
        default=24.0,
        help="An open exception older than this is overdue.",
    )
    retention_days = fields.Integer(
        default=30,
        help="Processed messages older than this are purged. Failed ones are kept.",
    )
    order_channel = fields.Boolean(
        compute="_compute_order_channel",
        help="The channel brings sales orders: the order settings apply to it.",
    )
    shipping_product_id = fields.Many2one(
        "product.product",
        string="Shipping product",
        help="Service product of shipping lines on imported orders.",
    )
    confirm_statuses = fields.Char(
        default="paid,partially_paid,authorized",
        help="Comma-separated payment statuses that confirm an imported order.",
    )
    # One box per payment status, kept in step with confirm_statuses (which
    # the code and integrators read); codes without a box are kept as they are.
    confirm_on_pending = fields.Boolean(
        string="Pending",
        compute="_compute_confirm_on",
        inverse="_inverse_confirm_on",
    )
    confirm_on_authorized = fields.Boolean(
        string="Authorized",
        compute="_compute_confirm_on",
        inverse="_inverse_confirm_on",
    )
    confirm_on_partially_paid = fields.Boolean(
        string="Partially paid",
        compute="_compute_confirm_on",
        inverse="_inverse_confirm_on",
    )
    confirm_on_paid = fields.Boolean(
        string="Paid",
        compute="_compute_confirm_on",
        inverse="_inverse_confirm_on",
    )
    confirm_on_partially_refunded = fields.Boolean(
        string="Partially refunded",
        compute="_compute_confirm_on",
        inverse="_inverse_confirm_on",
    )
    confirm_on_refunded = fields.Boolean(
        string="Refunded",
        compute="_compute_confirm_on",
        inverse="_inverse_confirm_on",
    )
    confirm_on_voided = fields.Boolean(
        string="Voided",
        compute="_compute_confirm_on",
        inverse="_inverse_confirm_on",
    )
    webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_webhook_url",
        help="Address to give the outside system for its webhooks (empty until "
        "the backend is saved).",
    )
    credentials_set = fields.Boolean(
        compute="_compute_credentials_set",
        help="What the channel needs to call the outside system is filled in.",
    )
    sync_message_ids = fields.One2many("distribution.sync.message", "backend_id")
    exception_ids = fields.One2many("distribution.sync.exception", "backend_id")
    binding_ids = fields.One2many("distribution.sync.binding", "backend_id")
    mapping_ids = fields.One2many("distribution.sync.mapping", "backend_id")
    ownership_ids = fields.One2many("distribution.sync.ownership", "backend_id")
    validation_rule_ids = fields.One2many(
        "distribution.sync.validation.rule", "backend_id"
    )
    milestone_sla_ids = fields.One2many(
        "distribution.sync.milestone.sla", "backend_id", string="Order SLAs"
    )
    color = fields.Integer()

    _sql_constraints = [
        ("max_attempts_positive", "CHECK(max_attempts > 0)", "Attempts must be > 0."),
    ]

    # ----------------------------------------------------------------- creation
    @api.model_create_multi
    def create(self, vals_list):
        # Secret values go through their inverse once the record exists.
        backends = super().create(vals_list)
        for backend in backends:
            backend._setup_defaults()
        return backends

    def _setup_defaults(self):
        """Give a new backend what it needs to work at once (no outside call)."""
        self.ensure_one()
        vals = {}
        if not self.channel_id:
            vals["channel_id"] = self._get_or_create_channel().id
        if not self.user_id:
            vals["user_id"] = self._create_technical_user().id
        if self.order_channel and not self.shipping_product_id:
            vals["shipping_product_id"] = self._default_shipping_product().id
        if vals:
            self.sudo().write(vals)
        if not self.ownership_ids:
            self.env["distribution.sync.ownership"].sudo().create(
                [
                    dict(row, backend_id=self.id)
                    for row in self._call("default_ownership")
                ]
            )
        if not self.validation_rule_ids:
            self.env["distribution.sync.validation.rule"].sudo().create(
                [
                    dict(row, backend_id=self.id)
                    for row in self._call("default_validation_rules")
                ]
            )

    @api.depends("confirm_statuses")
    def _compute_confirm_on(self):
        for backend in self:
            codes = backend._confirm_statuses()
            for code, _label in PAYMENT_STATUSES:
                backend[f"confirm_on_{code}"] = code in codes

    def _inverse_confirm_on(self):
        known = [code for code, _label in PAYMENT_STATUSES]
        cache = self.env.cache
        for backend in self:
            codes = [
                code.strip()
                for code in (backend.confirm_statuses or "").split(",")
                if code.strip()
            ]
            ticked = []
            for code in known:
                field = self._fields[f"confirm_on_{code}"]
                # A form saves the boxes it changed only; while they are
                # written, the others read as False: take them from the text.
                if cache.contains(backend, field):
                    if cache.get(backend, field):
                        ticked.append(code)
                elif code in codes:
                    ticked.append(code)
            kept = [code for code in codes if code not in known]
            backend.confirm_statuses = ",".join(ticked + kept)

    def _compute_webhook_url(self):
        base = (
            self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        ).rstrip("/")
        for backend in self:
            backend_id = backend._origin.id
            backend.webhook_url = (
                base + WEBHOOK_ROUTE % backend_id if backend_id else False
            )

    @api.depends("backend_type", "api_url")
    def _compute_credentials_set(self):
        for backend in self:
            backend.credentials_set = bool(backend._call("credentials_set"))

    def _default_document_url(self, record, external_id):
        return None

    def _default_topic_labels(self):
        return {}

    def _default_credentials_set(self):
        return bool(self.api_url)

    @api.depends("backend_type")
    def _compute_order_channel(self):
        for backend in self:
            backend.order_channel = bool(backend._call("order_channel"))

    def _request_limits(self):
        """``(per_window, window_seconds, at_once)``: the backend's settings,
        else the channel's documented limits; 0 or ``None``: no limit."""
        self.ensure_one()
        per_window, window, at_once = self._call("request_limits")
        return (
            self.request_limit or per_window,
            self.request_limit_window or window or 60,
            self.request_limit_concurrent or at_once,
        )

    def _default_request_limits(self):
        return (None, 60, None)

    def _request_limiter(self, bucket="api", limits=None):
        """What a client enters around each request to keep this backend's
        limits (``distribution.sync.request.slot``); another ``bucket`` with
        its own ``limits`` for requests the system limits apart."""
        return (
            self.env["distribution.sync.request.slot"]
            .sudo()
            ._limiter(self, bucket, limits)
        )

    def _default_order_channel(self):
        """Channels bring no orders unless they say so (``_<type>_order_channel``):
        shipping product, confirming statuses and sale-order rules are theirs."""
        return False

    def _get_or_create_channel(self):
        parent = self.env.ref(
            "distribution_sync.channel_distribution_sync", raise_if_not_found=False
        ) or self.env.ref("queue_job.channel_root")
        channels = self.env["queue.job.channel"].sudo()
        channel = channels.search(
            [("name", "=", self.backend_type), ("parent_id", "=", parent.id)], limit=1
        )
        return channel or channels.create(
            {"name": self.backend_type, "parent_id": parent.id}
        )

    def _technical_user_groups(self):
        """Groups of the technical user: enough to sync documents, nothing more."""
        xmlids = [
            "base.group_user",
            "base.group_partner_manager",
            "distribution_sync.group_distribution_sync_user",
            "sales_team.group_sale_salesman_all_leads",
            "stock.group_stock_user",
            "account.group_account_invoice",
            "uom.group_uom",
        ]
        groups = self.env["res.groups"]
        for xmlid in xmlids:
            groups |= self.env.ref(xmlid, raise_if_not_found=False) or groups
        return groups

    def _prepare_technical_user_vals(self):
        company = self.company_id
        return {
            "name": self.env._("%s (sync)", self.name),
            "login": f"distribution_sync_{self.id}_{self.backend_type}",
            # Chatter posts made by the jobs need an author address.
            "email": company.email
            or f"distribution_sync_{self.id}_{self.backend_type}@localhost",
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "groups_id": [Command.set(self._technical_user_groups().ids)],
            "active": True,
            "notification_type": "inbox",
        }

    def _create_technical_user(self):
        return (
            self.env["res.users"]
            .sudo()
            .with_context(no_reset_password=True, mail_create_nosubscribe=True)
            .create(self._prepare_technical_user_vals())
        )

    def _default_shipping_product(self):
        product = self.env.ref(
            "distribution_sync.product_shipping", raise_if_not_found=False
        )
        if product:
            return product
        return (
            self.env["product.product"]
            .sudo()
            .create(
                {
                    "name": self.env._("Shipping"),
                    "type": "service",
                    "sale_ok": True,
                    "purchase_ok": False,
                    "list_price": 0.0,
                    "invoice_policy": "order",
                }
            )
        )

    def _code_only_fields(self):
        """Fields only the sync itself writes: the user its jobs run as and
        how far its fetches went. Channel addons add theirs."""
        return {"user_id", "fetch_checkpoint", "stock_checkpoint"}

    def write(self, vals):
        refused = self._code_only_fields() & set(vals)
        if refused and not self.env.su:
            raise AccessError(
                self.env._(
                    "%(fields)s of a backend are set by the synchronisation itself.",
                    fields=", ".join(sorted(refused)),
                )
            )
        self._job_cache_clear()
        res = super().write(vals)
        if "company_id" in vals:
            for backend in self.filtered("user_id"):
                backend.user_id.sudo().write(
                    {
                        "company_ids": [Command.link(backend.company_id.id)],
                        "company_id": backend.company_id.id,
                    }
                )
            if not self.env.su:
                # Record rules are checked before a write, not after it:
                # nobody moves a backend into a company they do not work in.
                self.check_access("write")
        return res

    # ----------------------------------------------------------------- dispatch
    def _call(self, verb, *args, **kwargs):
        """Call ``_<backend_type>_<verb>``, else ``_default_<verb>``."""
        self.ensure_one()
        method = getattr(self, f"_{self.backend_type}_{verb}", None) or getattr(
            self, f"_default_{verb}", None
        )
        if method is None:
            raise UserError(
                self.env._(
                    "The %(type)s channel cannot %(verb)s.",
                    type=self.backend_type,
                    verb=verb.replace("_", " "),
                )
            )
        return method(*args, **kwargs)

    @api.model
    def _notify(self, event, records):
        """Tell each active backend of the records' companies whose channel
        listens to the document event ``event`` (see ``DOCUMENT_EVENTS``): its
        ``_<type>_on_<event>(records)``, else the core's
        ``_default_on_<event>(records)`` when there is one (it acts for the
        channels that implement the verbs it needs), gets the records of its
        company, as superuser, inside the transaction that made the event."""
        if event not in DOCUMENT_EVENTS:
            raise ValueError(f"Unknown document event {event!r}")
        if not records:
            return
        backends = self.sudo().search(
            [("company_id", "in", records.company_id.ids)], order="id"
        )
        for backend in backends:
            handler = getattr(
                backend, f"_{backend.backend_type}_on_{event}", None
            ) or getattr(backend, f"_default_on_{event}", None)
            mine = records.filtered(lambda r, b=backend: r.company_id == b.company_id)
            if handler and mine:
                handler(mine.sudo())

    def _default_default_ownership(self):
        """Odoo owns everything but the orders and customers' contact data."""
        rows = []
        for entity in core_ownership.ENTITIES:
            owner = (
                core_ownership.OWNER_CHANNEL
                if entity in ("order", "customer")
                else core_ownership.OWNER_ODOO
            )
            rows.append({"entity": entity, "owner": owner})
        return rows

    def _default_default_validation_rules(self):
        """The checks of an imported sale order, for channels that bring orders."""
        if not self.order_channel:
            return []
        return [
            {
                "document_type": "sale_order",
                "rule_type": "total_tolerance",
                "severity": "block",
                "tolerance": 0.0,
            },
            {
                "document_type": "sale_order",
                "rule_type": "lines_mapped",
                "severity": "block",
            },
            {
                "document_type": "sale_order",
                "rule_type": "price_deviation",
                "severity": "warn",
                "percent": 50.0,
            },
        ]

    # ------------------------------------------------------------------ actions
    def action_test_connection(self):
        self.ensure_one()
        # It calls the outside system with the stored credentials: the right
        # to configure the backend is what allows it.
        self.check_access("write")
        self._check_credentials()
        with self._outside_errors_as_user_errors():
            text = self._call("test_connection")
        self._audit("test_connection", note=text)
        return self._notification(self.env._("Connection"), text)

    def _check_credentials(self):
        for backend in self:
            if not backend.credentials_set:
                raise UserError(
                    self.env._(
                        "Fill in the connection settings of %s (address and "
                        "credentials) and save first.",
                        backend.name,
                    )
                )

    @contextmanager
    def _outside_errors_as_user_errors(self):
        """Turn a failure of the outside system (timeout, refused connection,
        HTTP 401 or 5xx...) into a ``UserError`` with its reason, for buttons:
        a person reads why, not a traceback."""
        try:
            yield
        except OUTSIDE_ERRORS as exc:
            raise UserError(self._outside_error_text(exc)) from exc

    def _outside_error_text(self, exc):
        text = str(exc).strip() or type(exc).__name__
        hint = (getattr(exc, "hint", "") or "").strip()
        # Hints about a later retry speak of jobs, not of a button.
        if hint and hint not in text and "retried" not in hint:
            text = f"{text} {hint}"
        return text

    def _notification(self, title, message, kind="success", **params):
        """A ``display_notification`` client action (what a button answers)."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": dict(
                {"title": title, "message": message, "type": kind, "sticky": False},
                **params,
            ),
        }

    # ------------------------------------------------------------------ helpers
    def _with_technical_user(self):
        """This backend in an environment of its technical user and company."""
        self.ensure_one()
        user = self.user_id or self.env.user
        return self.with_user(user).with_company(self.company_id)

    def _job_channel(self):
        self.ensure_one()
        # Stored on the backend (read anyway): no read of queue.job.channel,
        # which neither the technical user nor an inbox user may read.
        return self.sudo().channel_name or "root"

    def _audit(self, action, note=None, record=None):
        self.env["distribution.sync.audit"]._log(
            action, backend=self, record=record or self, note=note
        )

    def _open_exception(self, category, name, **kwargs):
        self.ensure_one()
        return self.env["distribution.sync.exception"]._open(
            self, category, name, **kwargs
        )
