# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import contextlib

from odoo import api, fields, models

from ..core.display import mapping_stamp
from ..core.mapping import MappingTable
from ..core.ownership import OwnershipMatrix, OwnershipRule
from ..core.retry import RetryPolicy, delay_from_pattern

# Key, in the cursor's cache, of the lookups shared by the messages of one job.
JOB_CACHE_KEY = "distribution_sync.job"


class DistributionSyncBackendRulesMixin(models.AbstractModel):
    """The rules the code applies for a backend, read once per job: the
    ownership matrix, the mapping table and its version, the retry policy;
    and who imported orders belong to (salesperson, sales team)."""

    _name = "distribution.sync.backend.rules.mixin"
    _description = "Distribution Sync Backend: rules"

    order_user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        domain=[("share", "=", False)],
        help="Salesperson of the orders this backend imports. Empty: the "
        "exception owner when an internal user, else none (never the "
        "technical user the jobs run as).",
    )
    order_team_id = fields.Many2one(
        "crm.team",
        string="Sales team",
        domain="[('company_id', 'in', [company_id, False])]",
        help="Sales team of the orders this backend imports. Empty: the "
        "salesperson's team.",
    )

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
        # The mappings _mapping_table reads (active ones counted; an archived
        # one still moves the last change), as "<count>@<last change>";
        # False without any mapping: "0@-" told a reader nothing.
        self.env["distribution.sync.mapping"].flush_model()
        self.env.cr.execute(
            """SELECT count(*) FILTER (WHERE active), max(write_date)
                 FROM distribution_sync_mapping
                WHERE (backend_id = %s OR backend_id IS NULL)
                  AND (company_id = %s OR company_id IS NULL)""",
            (self.id, self.company_id.id),
        )
        count, last = self.env.cr.fetchone()
        return mapping_stamp(count, last) or False

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

    def _order_salesperson(self):
        """The salesperson of the orders this backend imports: ``order_user_id``,
        else the exception owner when an internal user; never the technical
        user (its orders would be nobody's). May be empty."""
        self.ensure_one()
        for user in (self.order_user_id, self.responsible_user_id):
            # The exception owner may be a user the job's user cannot read.
            internal = user.sudo().active and not user.sudo().share
            if user and internal and user != self.user_id:
                return user
        return self.env["res.users"]

    def _confirm_statuses(self):
        return {s.strip() for s in (self.confirm_statuses or "").split(",") if s}
