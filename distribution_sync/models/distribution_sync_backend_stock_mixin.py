# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
import json
from datetime import timedelta

from odoo import fields, models

from ..core.idempotency import message_key, payload_digest

# Topic of the stock messages of a channel that names none.
STOCK_TOPIC = "inventory/set"
# How far before the stock checkpoint moves are looked for again.
STOCK_CHECKPOINT_OVERLAP = timedelta(minutes=15)
# Seconds the stock push waits, so that the moves of that time share one job.
STOCK_PUSH_DELAY = 60


class DistributionSyncBackendStockMixin(models.AbstractModel):
    """Stock levels pushed to the channel, for every channel that takes them.

    A channel takes stock when it implements the verbs ``stock_bindings``
    and ``stock_quantities`` (see the backend's docstring); it then sends the
    outbound messages of topic ``stock_topic`` in its ``push_record``. Moves
    done in Odoo (the ``stock_moved`` document event) queue one push job per
    backend, a minute later, which every move of that minute shares; the job
    reads the quantities of the products moved since the checkpoint and
    queues them as one outbound message. Only when Odoo owns the stock.
    """

    _name = "distribution.sync.backend.stock.mixin"
    _description = "Distribution Sync Backend: stock push"

    stock_checkpoint = fields.Datetime(
        string="Stock pushed up to",
        copy=False,
        readonly=True,
        help="The next stock push sends the products moved since then.",
    )

    def _takes_stock(self):
        """Whether this backend's channel implements the stock verbs."""
        self.ensure_one()
        return all(
            hasattr(self, f"_{self.backend_type}_{verb}")
            for verb in ("stock_bindings", "stock_quantities")
        )

    def _default_stock_topic(self):
        return STOCK_TOPIC

    def _default_stock_ready(self):
        return True

    def _default_on_stock_moved(self, moves):
        """Queue this backend's stock push (one pending job gathers the moves
        of a minute) when its channel takes stock, is ready for it and Odoo
        owns the stock."""
        if (
            self._takes_stock()
            and self._ownership_matrix().may_push("stock")
            and self._call("stock_ready")
        ):
            self._enqueue_stock_push()

    def _enqueue_stock_push(self):
        """Queue the stock push of this backend in a minute; while that job is
        pending, the moves done meanwhile queue nothing more."""
        self.ensure_one()
        return (
            self._with_technical_user()
            .with_delay(
                channel=self._job_channel(),
                description=self.env._("Push stock to %s", self.name),
                identity_key=f"distribution_sync:stock:{self.id}",
                eta=STOCK_PUSH_DELAY,
            )
            ._push_stock_job()
        )

    def _push_stock_job(self, full=False):
        """Turn the stock of the products moved since the checkpoint (all bound
        products when ``full``) into one outbound stock message."""
        self.ensure_one()
        started = fields.Datetime.now()
        if not self._takes_stock():
            return "The channel takes no stock: nothing pushed."
        if not self._ownership_matrix().may_push("stock"):
            return "The channel owns the stock: nothing pushed."
        bindings = self._call("stock_bindings")
        checkpoint = self.stock_checkpoint
        if bindings and checkpoint and not full:
            # A move is dated when it is validated, which can be long before
            # its transaction commits: the last run may not have seen it.
            # Looking back further costs nothing: the quantities are read now
            # and the same quantities make no new push.
            since = checkpoint - STOCK_CHECKPOINT_OVERLAP
            # The moved products only (one grouped query, no move loaded).
            moved = {
                product.id
                for (product,) in self.env["stock.move"]
                .sudo()
                ._read_group(
                    [
                        ("state", "=", "done"),
                        ("date", ">=", since),
                        ("product_id", "in", bindings.mapped("res_id")),
                    ],
                    ["product_id"],
                )
            }
            bindings = bindings.filtered(lambda b: b.res_id in moved)
        quantities = self._call("stock_quantities", bindings)
        message = self._queue_stock(quantities)
        self.sudo().stock_checkpoint = started
        return (
            f"{len(quantities)} quantities in message {message.id}"
            if message
            else "Nothing to push."
        )

    def _stock_messages(self, after=None, limit=None):
        """Stock pushes of this backend, newest first (those queued after the
        message ``after`` only); pushes skipped by hand do not count."""
        self.ensure_one()
        domain = [
            ("backend_id", "=", self.id),
            ("direction", "=", "outbound"),
            ("topic", "=", self._call("stock_topic")),
        ]
        if after:
            domain += [("id", ">", after.id), ("state", "!=", "skipped")]
        return (
            self.env["distribution.sync.message"]
            .sudo()
            .search(domain, order="id desc", limit=limit)
        )

    def _queue_stock(self, quantities):
        """One outbound stock message for ``quantities`` (none for an empty
        list; the same quantities as the last push make none)."""
        self.ensure_one()
        message = self.env["distribution.sync.message"]
        if not quantities:
            return message
        body = json.dumps(quantities, sort_keys=True)
        latest = self._stock_messages(limit=1)
        # The same quantities again make no new message; the last push's id
        # in the key lets stock that comes back to earlier quantities be
        # pushed again.
        if latest and latest.payload == body:
            key = latest.idempotency_key
        else:
            key = message_key(
                "stock", self.id, payload_digest(quantities), latest.id or None
            )
        return self._push(
            self,
            self._call("stock_topic"),
            quantities,
            "stock",
            key=key,
            work_key=f"{self.backend_type}:stock:{self.id}",
        )
