# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import contextlib

from odoo import api, models

from ..core.mapping import MappingTable
from ..core.ownership import OwnershipMatrix, OwnershipRule
from ..core.retry import RetryPolicy, delay_from_pattern

# Key, in the cursor's cache, of the lookups shared by the messages of one job.
JOB_CACHE_KEY = "distribution_sync.job"


class DistributionSyncBackendRulesMixin(models.AbstractModel):
    """The rules the code applies for a backend, read once per job: the
    ownership matrix, the mapping table and its version, the retry policy."""

    _name = "distribution.sync.backend.rules.mixin"
    _description = "Distribution Sync Backend: rules"

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
