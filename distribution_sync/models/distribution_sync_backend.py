# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import contextlib
import json
import logging
from datetime import timedelta

import requests

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from ..core import ownership as core_ownership
from ..core.errors import PayloadError, SyncError, TransientError
from ..core.idempotency import message_key, payload_digest
from ..core.mapping import MappingTable
from ..core.ownership import OwnershipMatrix, OwnershipRule
from ..core.retry import (
    RetryPolicy,
    delay_from_pattern,
    is_transient_http_status,
    retry_after_seconds,
)

_logger = logging.getLogger(__name__)

SECRET_FIELDS = ("webhook_secret",)
# Key, in the cursor's cache, of the lookups shared by the messages of one job.
JOB_CACHE_KEY = "distribution_sync.job"


class DistributionSyncBackend(models.Model):
    """One connection to one outside system.

    Channel addons plug in like ``delivery.carrier`` providers: they extend
    ``backend_type`` with ``selection_add`` and implement ``_<type>_<verb>``
    methods. The core calls them through :meth:`_call`; a verb that a type does
    not implement falls back to the ``_default_<verb>`` method when there is one.

    Verbs (``self`` is one backend):

    * ``_<type>_webhook_verify(body: bytes, headers) -> bool``: signature check.
    * ``_<type>_webhook_identity(body, headers, data) -> dict``: ``topic``,
      ``idempotency_key`` (required), ``external_id``, ``api_version``,
      ``work_key`` (what "the same work" means for auto-resolution); ``data``
      is the parsed JSON or ``None`` when the body is not JSON.
    * ``_<type>_process_message(message) -> dict``: apply one inbound message
      inside a savepoint. Raise ``core.errors.SyncError`` subclasses for
      business problems (they become exceptions), ``TransientError`` (or a
      network error) for what a retry may fix. Return ``{"res_model",
      "res_id", "state" ("done"/"skipped"), "summary", "canonical",
      "odoo_values"}``; every key is optional.
    * ``_<type>_push_record(message) -> dict``: send one outbound message;
      return ``{"external_id": ...}``.
    * ``_<type>_fetch_changes(since: datetime | None) -> list[dict]``: events
      changed since ``since`` as ``{"topic", "idempotency_key", "external_id",
      "work_key", "payload"}`` dicts; they go through the same intake as
      webhooks.
    * ``_<type>_test_connection() -> str``: a short success text, or raise.
    * ``_<type>_default_ownership() -> list[dict]``: ownership rows created
      with a new backend (``entity``, ``owner``, optional ``field_name``,
      ``on_conflict``).
    * ``_<type>_default_validation_rules() -> list[dict]``.

    Creating or saving a backend never calls the outside system.
    """

    _name = "distribution.sync.backend"
    _description = "Distribution Sync Backend"
    _inherit = ["mail.thread"]
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
    webhook_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_webhook_secret",
        help="Key that verifies inbound webhook signatures. It is stored "
        "encrypted and never shown again: type a new value to replace it.",
    )
    webhook_secret_set = fields.Boolean(
        compute="_compute_secret_fields", string="Webhook secret is set"
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
    fetch_overlap_minutes = fields.Integer(
        default=10,
        help="Changes are re-fetched from this many minutes before the last "
        "checkpoint so that nothing falls between two runs.",
    )
    fetch_checkpoint = fields.Datetime(copy=False, readonly=True)
    shipping_product_id = fields.Many2one(
        "product.product",
        string="Shipping product",
        help="Service product of shipping lines on imported orders.",
    )
    confirm_statuses = fields.Char(
        default="paid,partially_paid,authorized",
        help="Comma-separated payment statuses that confirm an imported order.",
    )
    sync_message_ids = fields.One2many("distribution.sync.message", "backend_id")
    exception_ids = fields.One2many("distribution.sync.exception", "backend_id")
    binding_ids = fields.One2many("distribution.sync.binding", "backend_id")
    mapping_ids = fields.One2many("distribution.sync.mapping", "backend_id")
    ownership_ids = fields.One2many("distribution.sync.ownership", "backend_id")
    validation_rule_ids = fields.One2many(
        "distribution.sync.validation.rule", "backend_id"
    )
    color = fields.Integer()

    # Dashboard figures (business terms, computed on read).
    count_pending = fields.Integer(compute="_compute_dashboard")
    count_error = fields.Integer(compute="_compute_dashboard")
    count_dead = fields.Integer(compute="_compute_dashboard")
    count_blocked = fields.Integer(compute="_compute_dashboard")
    count_open_exceptions = fields.Integer(compute="_compute_dashboard")
    count_overdue_exceptions = fields.Integer(compute="_compute_dashboard")
    count_done_24h = fields.Integer(
        compute="_compute_dashboard", string="Processed (24 h)"
    )
    last_success_date = fields.Datetime(
        compute="_compute_dashboard", string="Last successful sync"
    )
    exception_summary = fields.Char(compute="_compute_dashboard")

    _sql_constraints = [
        ("max_attempts_positive", "CHECK(max_attempts > 0)", "Attempts must be > 0."),
    ]

    # ------------------------------------------------------------------ secrets
    def _secret_fields(self):
        """Names of the write-only secret fields; channel addons extend it."""
        return list(SECRET_FIELDS)

    def _compute_secret_fields(self):
        secrets = self.env["distribution.sync.secret"].sudo()
        for backend in self:
            # Write-only: the plain value is never sent to any client.
            for fname in backend._secret_fields():
                backend[fname] = False
            backend.webhook_secret_set = bool(
                backend.id
                and secrets.search_count(
                    [("backend_id", "=", backend.id), ("key", "=", "webhook_secret")]
                )
            )

    def _inverse_secret(self, fname):
        for backend in self:
            value = backend[fname]
            if value:
                self.env["distribution.sync.secret"]._set(backend, fname, value)
                backend._audit("secret", note=fname)

    def _inverse_webhook_secret(self):
        self._inverse_secret("webhook_secret")

    def _get_secret(self, fname):
        """Plain value of a secret field for the code (never for display)."""
        self.ensure_one()
        return self.env["distribution.sync.secret"]._get(self, fname)

    def action_clear_secret(self):
        # Secrets live in a table nobody reads: the right to configure the
        # backend is what allows to wipe them.
        self.check_access("write")
        fname = self.env.context.get("secret_field", "webhook_secret")
        if fname not in self._secret_fields():
            raise UserError(self.env._("Unknown secret %s.", fname))
        for backend in self:
            self.env["distribution.sync.secret"]._set(backend, fname, False)
            backend._audit("secret", note=f"{fname} cleared")
        return True

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
        if not self.shipping_product_id:
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

    def write(self, vals):
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

    def _default_webhook_identity(self, body, headers, data):
        raise UserError(self.env._("This channel does not receive webhooks."))

    def _store_webhook(self, body, headers, data):
        """Store one verified webhook once, identified by its channel's
        ``webhook_identity``; return ``(message, is_new)``."""
        self.ensure_one()
        identity = self._call("webhook_identity", body, headers, data)
        return self.env["distribution.sync.message"]._intake(
            self,
            "inbound",
            identity.get("topic"),
            identity["idempotency_key"],
            body,
            headers=headers,
            external_id=identity.get("external_id"),
            api_version=identity.get("api_version"),
            work_key=identity.get("work_key"),
        )

    def _webhook_intake(self, body, headers):
        """Store a verified webhook once and queue its job.

        Returns ``(http_status, text)``. A body that is not JSON is stored in
        ``error`` with a validation exception and still answered ``200``: a
        redelivery would not fix it.
        """
        self.ensure_one()
        try:
            data, invalid = json.loads(body), None
        except ValueError as exc:
            data, invalid = None, exc
        message, is_new = self._store_webhook(body, headers, data)
        if not is_new:
            return 200, "duplicate"
        if invalid is not None:
            message._record_failure(
                PayloadError(
                    self.env._("The webhook body is not valid JSON (%s).", invalid),
                    hint=self.env._(
                        "Ask the sender to fix its payload; this delivery cannot "
                        "be processed."
                    ),
                ),
                attempt=1,
            )
            return 200, "stored with error: body is not JSON"
        message._enqueue()
        return 200, "accepted"

    # ---------------------------------------------------------- HTTP, outbound
    def _http(self, method, path, *, json_body=None, params=None, headers=None):
        """Call the backend's API; return the decoded JSON (or ``{}``).

        Network failures, throttling and 5xx raise ``TransientError`` (the
        message is retried); other 4xx raise ``PayloadError`` (a retry would
        not help, an exception is opened).
        """
        self.ensure_one()
        if not self.api_url:
            raise SyncError(
                self.env._("The backend %s has no API URL.", self.name),
                hint=self.env._("Set the API URL on the backend, then retry."),
            )
        url = f"{self.api_url.rstrip('/')}/{path.lstrip('/')}"
        try:
            response = requests.request(
                method,
                url,
                json=json_body,
                params=params,
                headers=headers,
                timeout=self.request_timeout or 20,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(f"{method} {url}: {exc}") from exc
        if is_transient_http_status(response.status_code):
            raise TransientError(
                f"{method} {url} answered {response.status_code}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            raise PayloadError(
                f"{method} {url} refused the request ({response.status_code}): "
                f"{response.text[:500]}",
                value=response.status_code,
            )
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise PayloadError(f"{method} {url} did not answer JSON.") from exc

    def _push(self, record, topic, payload, entity, key=None, work_key=None):
        """Queue one outbound message for ``record`` unless the channel owns
        ``entity``. Pushing the same content twice makes one message (the
        default key is the record, the topic and the content's digest)."""
        self.ensure_one()
        if not self._ownership_matrix().may_push(entity):
            return self.env["distribution.sync.message"]
        body = json.dumps(payload, sort_keys=True, default=str)
        key = key or message_key(record._name, record.id, topic, payload_digest(body))
        message, is_new = self.env["distribution.sync.message"]._intake(
            self,
            "outbound",
            topic,
            key,
            body,
            res_model=record._name,
            res_id=record.id,
            work_key=work_key or f"{record._name}:{record.id}",
        )
        if is_new:
            message._enqueue()
        return message

    # ------------------------------------------------------- rules for the code
    def _ownership_matrix(self):
        self.ensure_one()
        rules = [
            OwnershipRule(
                entity=row.entity,
                owner=row.owner,
                field=row.field_name or None,
                on_conflict=row.on_conflict,
            )
            for row in self.sudo().ownership_ids
        ]
        return OwnershipMatrix(rules)

    def _mapping_table(self):
        """Mappings of this backend and the shared ones (backend-specific win)."""
        self.ensure_one()
        return self._job_cached(("mapping_table", self.id), self._read_mapping_table)

    def _read_mapping_table(self):
        mappings = (
            self.env["distribution.sync.mapping"]
            .sudo()
            .search(
                [
                    ("backend_id", "in", [self.id, False]),
                    ("company_id", "in", [self.company_id.id, False]),
                ],
                order="backend_id desc nulls last, id",
            )
        )
        entries, seen = [], set()
        for mapping in mappings:
            key = (mapping.mapping_type, mapping.code_normalized)
            if key in seen:
                continue
            seen.add(key)
            entries.append((mapping.mapping_type, mapping.external_code, mapping))
        return MappingTable(entries)

    def _mapping_version(self):
        """A stamp of the mappings in force, recorded on each processed message."""
        self.ensure_one()
        return self._job_cached(
            ("mapping_version", self.id), self._read_mapping_version
        )

    def _read_mapping_version(self):
        self.env["distribution.sync.mapping"].flush_model()
        self.env.cr.execute(
            """SELECT count(*), max(write_date) FROM distribution_sync_mapping
                WHERE backend_id = %s OR backend_id IS NULL""",
            (self.id,),
        )
        count, last = self.env.cr.fetchone()
        return f"{count}@{last.isoformat(timespec='seconds') if last else '-'}"

    # ------------------------------------------------------- shared job lookups
    @api.model
    @contextlib.contextmanager
    def _job_scope(self):
        """Share the lookups of ``_job_cached`` between the messages of one job.

        The scope ends with the job, before its transaction commits. Within
        one transaction the database answers a lookup the same way (repeatable
        read), and processing never writes what these lookups read (mappings,
        products, countries, pricelists...); writing mappings or a backend
        drops what was shared anyway.
        """
        cache = self.env.cr.cache
        if JOB_CACHE_KEY in cache:
            # Nested (e.g. a retry run by a job): the outer job owns the scope.
            yield
            return
        cache[JOB_CACHE_KEY] = {}
        try:
            yield
        finally:
            cache.pop(JOB_CACHE_KEY, None)

    @api.model
    def _job_cached(self, key, compute):
        """``compute()``, once per ``key``, user and companies inside
        ``_job_scope``, at each call outside it. Failures are not kept."""
        cache = self.env.cr.cache.get(JOB_CACHE_KEY)
        if cache is None:
            return compute()
        # Record rules depend on the user and the allowed companies.
        companies = tuple(self.env.context.get("allowed_company_ids") or ())
        key = (self.env.uid, self.env.su, companies, *key)
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    @api.model
    def _job_cache_clear(self):
        cache = self.env.cr.cache.get(JOB_CACHE_KEY)
        if cache:
            cache.clear()

    def _retry_policy(self):
        self.ensure_one()
        return RetryPolicy(max_attempts=self.max_attempts)

    def _retry_delay(self, attempt, method="_process_job"):
        """Seconds before attempt ``attempt + 1``, from the retry pattern of
        the job function ``method`` declared in XML (``queue.job.function``)."""
        config = (
            self.env["queue.job.function"]
            .sudo()
            .job_config(f"<distribution.sync.message>.{method}")
        )
        return delay_from_pattern(
            config.retry_pattern, attempt, default=self._retry_policy().delay(attempt)
        )

    def _confirm_statuses(self):
        return {s.strip() for s in (self.confirm_statuses or "").split(",") if s}

    # ---------------------------------------------------------------- dashboard
    def _compute_dashboard(self):
        messages = self.env["distribution.sync.message"]
        exceptions = self.env["distribution.sync.exception"]
        since = fields.Datetime.now() - timedelta(hours=24)
        ids = self.ids
        by_state = {
            (backend.id, state): count
            for backend, state, count in messages._read_group(
                [("backend_id", "in", ids)], ["backend_id", "state"], ["__count"]
            )
        }
        done_24h = self._ids_dict(
            messages._read_group(
                [
                    ("backend_id", "in", ids),
                    ("state", "=", "done"),
                    ("processed_at", ">=", since),
                ],
                ["backend_id"],
                ["__count"],
            )
        )
        last_done = self._ids_dict(
            messages._read_group(
                [("backend_id", "in", ids), ("state", "=", "done")],
                ["backend_id"],
                ["processed_at:max"],
            )
        )
        open_by_cat = {}
        for backend, category, count in exceptions._read_group(
            [("backend_id", "in", ids), ("state", "=", "open")],
            ["backend_id", "category"],
            ["__count"],
        ):
            open_by_cat.setdefault(backend.id, {})[category] = count
        overdue = self._ids_dict(
            exceptions._read_group(
                [
                    ("backend_id", "in", ids),
                    ("state", "=", "open"),
                    ("sla_deadline", "<", fields.Datetime.now()),
                ],
                ["backend_id"],
                ["__count"],
            )
        )
        labels = dict(exceptions._fields["category"]._description_selection(self.env))
        for backend in self:
            key = backend.id
            backend.count_pending = sum(
                by_state.get((key, s), 0) for s in ("received", "queued", "processing")
            )
            backend.count_error = by_state.get((key, "error"), 0)
            backend.count_dead = by_state.get((key, "dead"), 0)
            backend.count_blocked = by_state.get((key, "blocked"), 0)
            cats = open_by_cat.get(key, {})
            backend.count_open_exceptions = sum(cats.values())
            backend.count_overdue_exceptions = overdue.get(key, 0)
            backend.count_done_24h = done_24h.get(key, 0)
            backend.last_success_date = last_done.get(key)
            backend.exception_summary = ", ".join(
                f"{labels.get(cat, cat)}: {count}"
                for cat, count in sorted(cats.items())
            )

    @staticmethod
    def _ids_dict(groups):
        return {record.id: value for record, value in groups}

    def _action_open(self, model, domain, name, context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "list,form",
            "domain": domain,
            "context": dict(context or {}),
        }

    def action_open_messages(self):
        self.ensure_one()
        states = self.env.context.get("message_states")
        domain = [("backend_id", "=", self.id)]
        if states:
            domain.append(("state", "in", states))
        return self._action_open(
            "distribution.sync.message", domain, self.env._("Messages")
        )

    def action_open_exceptions(self):
        self.ensure_one()
        domain = [("backend_id", "=", self.id), ("state", "=", "open")]
        if self.env.context.get("overdue"):
            domain.append(("sla_deadline", "<", fields.Datetime.now()))
        return self._action_open(
            "distribution.sync.exception",
            domain,
            self.env._("Open exceptions"),
            {"search_default_group_category": 1},
        )

    # ------------------------------------------------------------------ actions
    def action_test_connection(self):
        self.ensure_one()
        text = self._call("test_connection")
        self._audit("test_connection", note=text)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Connection"),
                "message": text,
                "type": "success",
                "sticky": False,
            },
        }

    def action_fetch_changes(self):
        for backend in self:
            backend._with_technical_user().with_delay(
                channel=backend._job_channel(),
                description=self.env._("Fetch changes from %s", backend.name),
                identity_key=f"distribution_sync:fetch:{backend.id}",
            )._fetch_changes_job()
        return True

    def _fetch_events(self, since):
        """The backend's ``fetch_changes`` in a job: a channel that cannot be
        reached now is retried later by queue_job (pattern of the job
        function, or the wait the channel asked for), checkpoint untouched."""
        try:
            return self._call("fetch_changes", since)
        except TransientError as exc:
            raise RetryableJobError(str(exc), seconds=exc.retry_after) from exc

    def _fetch_changes_job(self):
        """Bring in what changed since the last checkpoint (with overlap)."""
        self.ensure_one()
        started = fields.Datetime.now()
        since = self.fetch_checkpoint and (
            self.fetch_checkpoint - timedelta(minutes=self.fetch_overlap_minutes)
        )
        events = self._fetch_events(since)
        created = self._intake_fetched(events)
        self.sudo().fetch_checkpoint = started
        return f"{len(events)} events fetched, {len(created)} new"

    def _intake_fetched(self, events):
        """Store fetched events as webhooks are stored (once per idempotency
        key) and queue the new ones; return the new messages."""
        self.ensure_one()
        created = self.env["distribution.sync.message"]
        for event in events:
            message, is_new = self.env["distribution.sync.message"]._intake(
                self,
                "inbound",
                event["topic"],
                event["idempotency_key"],
                event["payload"],
                external_id=event.get("external_id"),
                work_key=event.get("work_key"),
            )
            if is_new:
                created |= message
        created._enqueue()
        return created

    @api.model
    def _cron_fetch_changes(self):
        backends = self.search([("api_url", "!=", False)])
        for backend in backends:
            if hasattr(backend, f"_{backend.backend_type}_fetch_changes"):
                backend.action_fetch_changes()
        return True

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
