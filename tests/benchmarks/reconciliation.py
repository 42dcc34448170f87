#!/usr/bin/env python3
"""Reconciliation and order milestones on a large database, set-based against a loop.

Not a pytest test (the name does not start with ``test_``). Run it by hand::

    python tests/benchmarks/reconciliation.py [--orders 100000] [--diffs 50]
           [--loop-orders 10000] [--keep] [--explain] [--strict]

It creates a fresh database with the four addons (no demo data), makes a Shopify,
a QuickBooks (Odoo owns the invoices) and an EasyPost backend and a delivery
method of the EasyPost backend with the ORM, then writes ``--orders`` channel
orders with SQL: each a confirmed sale order, its line, its Shopify binding and
import message, a done delivery with its tracking number and label, a posted
invoice linked to the order line, its QuickBooks binding and export message and,
once paid, a payment and its QuickBooks binding. ``--diffs`` differences of each
kind the reconciliation checks look for are written among them, each on orders of
its own. Then, each in an ``odoo shell`` of its own:

1. two reconciliation runs (``distribution.sync.reconciliation``, every backend):
   the time of each run and of each check, the differences found against those
   written (they must be the same, and the second run must keep every difference
   single: no new one, none resolved);
2. the same checks written as a loop over records with the ORM, on the records of
   the first ``--loop-orders`` orders, and how the two compare;
3. two refreshes of the order milestones (the second one incremental), with the
   milestones per step and state.

It prints a summary and drops the database (``--keep`` keeps it). See README.md
beside it.
"""

import argparse
import inspect
import json
import os
import subprocess
import textwrap
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench_common import ot, run_benchmark

ADDONS = (
    ot.MAIN_ADDON,
    "distribution_sync_shopify",
    "distribution_sync_carrier",
    "distribution_sync_quickbooks",
)
# Every kind of difference the checks report, in the order they are spread over
# the orders (one code per check).
KINDS = (
    "document_missing",
    "order_total",
    "order_state",
    "order_not_imported",
    "move_total",
    "move_state",
    "move_balance",
    "payment_amount",
    "delivered_not_done",
    "shipped_without_tracking",
    "postage_over_quote",
    "not_in_accounting",
)
# Orders are 2 to 60 days old (minutes); paid after 20 days. Every 97th order
# is cancelled on both sides (not a difference).
AGE_MIN = 2 * 24 * 60
AGE_SPAN = 58 * 24 * 60
PAID_AFTER = 20 * 24 * 60
CANCELLED_EVERY = 97
PARTNERS = 100
GOAL_SECONDS = 15.0
GOAL_RATIO = 20.0
MARK = "BENCH "


def age_minutes(n):
    """Age of order ``n`` in minutes (the SQL of ``shell_seed`` computes the same)."""
    return AGE_MIN + (n * 7919) % AGE_SPAN


def utc_now():
    """Now as Odoo stores datetimes (UTC, naive)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def is_cancelled(n):
    return n % CANCELLED_EVERY == 0


def is_paid(n):
    return not is_cancelled(n) and age_minutes(n) >= PAID_AFTER


def spread_differences(orders, per_kind):
    """``{order number: kind}``: ``per_kind`` differences of each kind, spread
    evenly over the orders, one order each, never on a cancelled order (a
    payment difference on a paid one)."""
    total = per_kind * len(KINDS)
    slots = {}
    for i in range(total):
        kind = KINDS[i % len(KINDS)]
        n = 1 + i * orders // total
        while (
            n in slots
            or is_cancelled(n)
            or (kind == "payment_amount" and not is_paid(n))
        ):
            n += 1
        if n > orders:
            raise ot.TierError("too few orders for the differences asked")
        slots[n] = kind
    return slots


# --------------------------------------------------------------------------
# Run in ``odoo shell``: each ``shell_*`` function gets ``env`` (superuser) and
# the parameters, and returns what it measured (see ``shell_program``).


def shell_setup(env, params):
    """The backends, the delivery method, a product and customers (ORM)."""
    Backend = env["distribution.sync.backend"]
    shop = Backend.create(
        {
            "name": "Bench Shopify",
            "backend_type": "shopify",
            "shopify_shop_domain": "bench-shop.myshopify.com",
        }
    )
    quickbooks = Backend.create(
        {"name": "Bench QuickBooks", "backend_type": "quickbooks"}
    )
    easypost = Backend.create({"name": "Bench EasyPost", "backend_type": "easypost"})
    Product = env["product.product"]
    product = Product.create(
        {
            "name": "Bench widget",
            "default_code": "BENCH-WIDGET",
            "type": "consu",
            "taxes_id": [(5, 0, 0)],
        }
    )
    shipping = Product.create(
        {"name": "Bench postage", "type": "service", "taxes_id": [(5, 0, 0)]}
    )
    carrier = env["delivery.carrier"].create(
        {
            "name": "USPS Priority (bench)",
            "delivery_type": "distribution_sync",
            "product_id": shipping.id,
            "distribution_sync_backend_id": easypost.id,
            "distribution_sync_service": "USPS/Priority",
        }
    )
    partners = env["res.partner"].create(
        [{"name": f"Bench customer {i:03d}"} for i in range(params["partners"])]
    )
    company = env.company
    warehouse = env["stock.warehouse"].search(
        [("company_id", "=", company.id)], limit=1
    )
    bank = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
    )
    sale_journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
    )
    env.cr.commit()
    return {
        "company": company.id,
        "currency": company.currency_id.id,
        "user": env.ref("base.user_admin").id,
        "shop": shop.id,
        "quickbooks": quickbooks.id,
        "easypost": easypost.id,
        "odoo_owns_invoices": quickbooks._ownership_matrix().may_push("invoice"),
        "postage_tolerance": easypost.carrier_postage_tolerance,
        "product": product.id,
        "uom": product.uom_id.id,
        "carrier": carrier.id,
        "partners": partners.ids,
        "warehouse": warehouse.id,
        "stock_location": warehouse.lot_stock_id.id,
        "customer_location": env.ref("stock.stock_location_customers").id,
        "picking_type": warehouse.out_type_id.id,
        "sale_journal": sale_journal.id,
        "income_account": sale_journal.default_account_id.id,
        "bank_journal": bank.id,
        "payment_method_line": bank.inbound_payment_method_line_ids[:1].id,
    }


def shell_seed(env, params):
    """Every row of the orders with SQL, the differences among them.

    Ids are reserved in blocks (``base + n - 1`` for order ``n``), so that the
    rows of one order point at each other without look-ups, and the records of
    the first orders are id ranges."""
    cr = env.cr
    started = time.perf_counter()
    count = params["orders"]
    blocks = {
        "so": "sale_order",
        "sol": "sale_order_line",
        "picking": "stock_picking",
        "move": "account_move",
        "aml": "account_move_line",
        "payment": "account_payment",
        "shipment": "distribution_sync_shipment",
        "binding": "distribution_sync_binding",
        "gone": "distribution_sync_binding",
        "qb_move": "distribution_sync_binding",
        "qb_payment": "distribution_sync_binding",
        "msg_in": "distribution_sync_message",
        "msg_dead": "distribution_sync_message",
        "msg_out": "distribution_sync_message",
    }
    bases = {}
    for key, table in blocks.items():
        sequence = f"{table}_id_seq"
        cr.execute("SELECT nextval(%s)", [sequence])
        bases[key] = cr.fetchone()[0]
        cr.execute("SELECT setval(%s, %s)", [sequence, bases[key] + count])
    # Ids no sale order has (the bindings of deleted orders).
    bases["missing"] = bases["so"] + count + 1_000_000
    slots = params["slots"]
    values = dict(
        params["setup"],
        **bases,
        orders=count,
        now=params["now"],
        age_min=params["age_min"],
        age_span=params["age_span"],
        paid_after=params["paid_after"],
        cancelled_every=params["cancelled_every"],
        partner_count=len(params["setup"]["partners"]),
        slot_n=[int(n) for n in slots],
        slot_kind=list(slots.values()),
    )
    statements = [
        # One row per order: what the other rows are made of.
        """CREATE TEMP TABLE bench_n AS
           SELECT g.n, s.kind, a.age_min,
                  g.n %% %(cancelled_every)s = 0 AS cancelled,
                  g.n %% %(cancelled_every)s <> 0
                    AND a.age_min >= %(paid_after)s AS paid,
                  a.created,
                  a.created + CASE WHEN g.n %% 50 = 7 AND a.age_min >= 14400
                                   THEN interval '3 days'
                                   ELSE interval '6 hours' END AS shipped_at,
                  round(10 + ((g.n::bigint * 3761) %% 50000) / 100.0, 2) AS total,
                  round(5 + (g.n %% 700) / 100.0, 2) AS quote,
                  (%(partners)s::int[])[1 + g.n %% %(partner_count)s] AS partner_id,
                  lpad(g.n::text, 7, '0') AS num
             FROM generate_series(1, %(orders)s) AS g(n)
            CROSS JOIN LATERAL (
              SELECT (%(age_min)s + (g.n::bigint * 7919) %% %(age_span)s)::int
                     AS age_min) m
            CROSS JOIN LATERAL (
              SELECT m.age_min,
                     %(now)s::timestamp - make_interval(mins => m.age_min)
                     AS created) a
             LEFT JOIN unnest(%(slot_n)s::int[], %(slot_kind)s::varchar[])
                  AS s(n, kind) ON s.n = g.n""",
        """INSERT INTO sale_order
             (id, name, state, company_id, partner_id, partner_invoice_id,
              partner_shipping_id, date_order, picking_policy, currency_id,
              currency_rate, user_id, warehouse_id, carrier_id, amount_untaxed,
              amount_tax, amount_total, invoice_status, delivery_status, locked,
              require_signature, require_payment, prepayment_percent,
              client_order_ref, create_uid, create_date, write_uid, write_date)
           SELECT %(so)s + n - 1, 'BS' || num,
                  CASE WHEN cancelled THEN 'cancel' ELSE 'sale' END,
                  %(company)s, partner_id, partner_id, partner_id,
                  created + interval '10 minutes', 'direct', %(currency)s, 1.0,
                  %(user)s, %(warehouse)s, %(carrier)s, total, 0, total,
                  CASE WHEN cancelled THEN 'no' ELSE 'invoiced' END,
                  CASE WHEN cancelled THEN NULL
                       WHEN kind = 'delivered_not_done' THEN 'pending'
                       ELSE 'full' END,
                  false, false, false, 1.0, '#' || (1000 + n), %(user)s, created,
                  %(user)s, created + interval '10 minutes'
             FROM bench_n""",
        """INSERT INTO sale_order_line
             (id, order_id, sequence, company_id, currency_id, order_partner_id,
              salesman_id, product_id, product_uom, state, name, product_uom_qty,
              price_unit, discount, price_subtotal, price_total, price_tax,
              price_reduce_taxexcl, price_reduce_taxinc, technical_price_unit,
              qty_delivered, qty_invoiced, qty_to_invoice, untaxed_amount_invoiced,
              untaxed_amount_to_invoice, qty_delivered_method, invoice_status,
              customer_lead, is_downpayment, is_expense, is_delivery,
              create_uid, create_date, write_uid, write_date)
           SELECT %(sol)s + n - 1, %(so)s + n - 1, 10, %(company)s, %(currency)s,
                  partner_id, %(user)s, %(product)s, %(uom)s,
                  CASE WHEN cancelled THEN 'cancel' ELSE 'sale' END,
                  'Bench widget', 1, total, 0, total, total, 0, total, total,
                  total, 1, 1, 0, total, 0, 'stock_move', 'invoiced', 0,
                  false, false, false, %(user)s, created, %(user)s, created
             FROM bench_n""",
        # The Shopify order and its import message.
        """INSERT INTO distribution_sync_binding
             (id, backend_id, company_id, res_model, res_id, external_id,
              external_name, sync_date, remote_state, remote_amount,
              create_uid, create_date, write_uid, write_date)
           SELECT %(binding)s + n - 1, %(shop)s, %(company)s, 'sale.order',
                  %(so)s + n - 1, (5000000000 + n)::text, '#' || (1000 + n),
                  created,
                  CASE WHEN cancelled OR kind = 'order_state' THEN 'cancelled'
                       ELSE 'paid' END,
                  total + CASE WHEN kind = 'order_total' THEN 10 ELSE 0 END,
                  %(user)s, created, %(user)s, created
             FROM bench_n""",
        """INSERT INTO distribution_sync_message
             (id, backend_id, company_id, direction, topic, external_id,
              idempotency_key, work_key, state, res_model, res_id, attempt_count,
              processed_at, create_uid, create_date, write_uid, write_date)
           SELECT %(msg_in)s + n - 1, %(shop)s, %(company)s, 'inbound',
                  'orders/create', (5000000000 + n)::text, 'bench-in-' || n,
                  'order:' || (5000000000 + n), 'done', 'sale.order',
                  %(so)s + n - 1, 1, created, %(user)s, created, %(user)s, created
             FROM bench_n""",
        # A binding whose order was deleted in Odoo.
        """INSERT INTO distribution_sync_binding
             (id, backend_id, company_id, res_model, res_id, external_id,
              external_name, sync_date, remote_state, remote_amount,
              create_uid, create_date, write_uid, write_date)
           SELECT %(gone)s + n - 1, %(shop)s, %(company)s, 'sale.order',
                  %(missing)s + n, (9000000000 + n)::text, '#' || (900000 + n),
                  created, 'paid', total, %(user)s, created, %(user)s, created
             FROM bench_n WHERE kind = 'document_missing'""",
        # A channel order that never became an order (its message is dead).
        """INSERT INTO distribution_sync_message
             (id, backend_id, company_id, direction, topic, external_id,
              idempotency_key, work_key, state, attempt_count, last_error,
              create_uid, create_date, write_uid, write_date)
           SELECT %(msg_dead)s + n - 1, %(shop)s, %(company)s, 'inbound',
                  'orders/create', (8000000000 + n)::text, 'bench-dead-' || n,
                  'order:' || (8000000000 + n), 'dead', 5,
                  'No product with SKU BENCH-GONE', %(user)s,
                  %(now)s::timestamp - interval '2 hours', %(user)s,
                  %(now)s::timestamp - interval '2 hours'
             FROM bench_n WHERE kind = 'order_not_imported'""",
        """INSERT INTO stock_picking
             (id, name, origin, company_id, partner_id, location_id,
              location_dest_id, picking_type_id, sale_id, move_type, state,
              priority, printed, is_locked, has_deadline_issue, scheduled_date,
              date, date_done, carrier_id, carrier_tracking_ref, weight,
              carrier_price, distribution_sync_tracking_status,
              distribution_sync_tracking_date, user_id,
              create_uid, create_date, write_uid, write_date)
           SELECT %(picking)s + n - 1, 'WH/OUT/B' || num, 'BS' || num,
                  %(company)s, partner_id, %(stock_location)s,
                  %(customer_location)s, %(picking_type)s, %(so)s + n - 1,
                  'direct',
                  CASE WHEN cancelled THEN 'cancel'
                       WHEN kind = 'delivered_not_done' THEN 'assigned'
                       ELSE 'done' END,
                  '0', false, true, false, created + interval '15 minutes',
                  created + interval '15 minutes',
                  CASE WHEN cancelled OR kind = 'delivered_not_done' THEN NULL
                       ELSE shipped_at END,
                  %(carrier)s,
                  CASE WHEN cancelled OR kind = 'shipped_without_tracking'
                       THEN NULL ELSE '9400' || lpad(n::text, 18, '0') END,
                  1.0, quote,
                  CASE WHEN cancelled OR kind = 'shipped_without_tracking'
                       THEN NULL ELSE 'delivered' END,
                  CASE WHEN cancelled OR kind = 'shipped_without_tracking'
                       THEN NULL ELSE shipped_at + interval '20 hours' END,
                  %(user)s, %(user)s, created, %(user)s, shipped_at
             FROM bench_n""",
        """INSERT INTO distribution_sync_shipment
             (id, backend_id, company_id, picking_id, currency_id, parcel_key,
              external_id, state, carrier, service, tracking_code, tracker_ref,
              label_format, quoted_amount, charged_amount, weight_kg, is_return,
              bought_date, first_scan_date,
              create_uid, create_date, write_uid, write_date)
           SELECT %(shipment)s + n - 1, %(easypost)s, %(company)s,
                  %(picking)s + n - 1, %(currency)s, '1', 'shp_bench_' || n,
                  CASE WHEN cancelled THEN 'refunded' ELSE 'bought' END,
                  'USPS', 'Priority',
                  CASE WHEN cancelled OR kind = 'shipped_without_tracking'
                       THEN NULL ELSE '9400' || lpad(n::text, 18, '0') END,
                  'trk_bench_' || n, 'PDF', quote,
                  quote + CASE WHEN kind = 'postage_over_quote' THEN 2.00
                               WHEN n %% 10 = 3 THEN 0.30 ELSE 0 END,
                  1.0, false, created + interval '5 hours', shipped_at,
                  %(user)s, created + interval '5 hours', %(user)s, shipped_at
             FROM bench_n""",
        """INSERT INTO account_move
             (id, name, journal_id, company_id, currency_id, partner_id,
              commercial_partner_id, partner_shipping_id, invoice_user_id, state,
              move_type, auto_post, payment_state, date, invoice_date,
              invoice_date_due, invoice_origin, sequence_prefix, sequence_number,
              amount_untaxed, amount_tax, amount_total, amount_residual,
              amount_untaxed_signed, amount_untaxed_in_currency_signed,
              amount_tax_signed, amount_total_signed,
              amount_total_in_currency_signed, amount_residual_signed,
              invoice_currency_rate, invoice_partner_display_name, posted_before,
              is_storno, always_tax_exigible, checked, made_sequence_gap,
              is_move_sent, is_manually_modified,
              create_uid, create_date, write_uid, write_date)
           SELECT %(move)s + n - 1, 'INV/B/' || num, %(sale_journal)s,
                  %(company)s, %(currency)s, partner_id, partner_id, partner_id,
                  %(user)s, CASE WHEN cancelled THEN 'cancel' ELSE 'posted' END,
                  'out_invoice', 'no',
                  CASE WHEN paid THEN 'paid' ELSE 'not_paid' END,
                  (created + interval '1 hour')::date,
                  (created + interval '1 hour')::date,
                  (created + interval '31 days')::date, 'BS' || num, 'INV/B/', n,
                  total, 0, total, r.residual, total, total, 0, total, total,
                  r.residual, 1.0, 'Bench customer', true, false, false, false,
                  false, true, false, %(user)s, created + interval '1 hour',
                  %(user)s,
                  CASE WHEN paid THEN created + interval '10 days'
                       ELSE created + interval '1 hour' END
             FROM bench_n
            CROSS JOIN LATERAL (
              SELECT CASE WHEN paid OR cancelled THEN 0 ELSE total END
                     AS residual) r""",
        """INSERT INTO account_move_line
             (id, move_id, journal_id, company_id, company_currency_id,
              currency_id, account_id, partner_id, product_id, product_uom_id,
              move_name, parent_state, name, display_type, date, invoice_date,
              sequence, debit, credit, balance, amount_currency, amount_residual,
              amount_residual_currency, quantity, price_unit, price_subtotal,
              price_total, discount, tax_tag_invert, reconciled, is_imported,
              create_uid, create_date, write_uid, write_date)
           SELECT %(aml)s + n - 1, %(move)s + n - 1, %(sale_journal)s,
                  %(company)s, %(currency)s, %(currency)s, %(income_account)s,
                  partner_id, %(product)s, %(uom)s, 'INV/B/' || num,
                  CASE WHEN cancelled THEN 'cancel' ELSE 'posted' END,
                  'Bench widget', 'product', (created + interval '1 hour')::date,
                  (created + interval '1 hour')::date, 10, 0, total, -total,
                  -total, 0, 0, 1, total, total, total, 0, true, false, false,
                  %(user)s, created + interval '1 hour', %(user)s,
                  created + interval '1 hour'
             FROM bench_n""",
        """INSERT INTO sale_order_line_invoice_rel (invoice_line_id, order_line_id)
           SELECT %(aml)s + n - 1, %(sol)s + n - 1 FROM bench_n""",
        # The invoice in QuickBooks (what it last told us) and its export.
        """INSERT INTO distribution_sync_binding
             (id, backend_id, company_id, res_model, res_id, external_id,
              external_name, sync_date, remote_state, remote_amount,
              remote_residual, create_uid, create_date, write_uid, write_date)
           SELECT %(qb_move)s + n - 1, %(quickbooks)s, %(company)s,
                  'account.move', %(move)s + n - 1, (100000 + n)::text,
                  'INV/B/' || num, created + interval '65 minutes',
                  CASE WHEN cancelled OR kind = 'move_state' THEN 'voided'
                       ELSE 'posted' END,
                  total + CASE WHEN kind = 'move_total' THEN 10 ELSE 0 END,
                  CASE WHEN paid OR cancelled THEN 0 ELSE total END
                  + CASE WHEN kind = 'move_balance' THEN 5 ELSE 0 END,
                  %(user)s, created + interval '65 minutes', %(user)s,
                  created + interval '65 minutes'
             FROM bench_n WHERE kind IS DISTINCT FROM 'not_in_accounting'""",
        """INSERT INTO distribution_sync_message
             (id, backend_id, company_id, direction, topic, external_id,
              idempotency_key, work_key, state, res_model, res_id, attempt_count,
              last_error, processed_at,
              create_uid, create_date, write_uid, write_date)
           SELECT %(msg_out)s + n - 1, %(quickbooks)s, %(company)s, 'outbound',
                  'invoice/create', (100000 + n)::text, 'bench-out-' || n,
                  'account.move:' || (%(move)s + n - 1),
                  CASE WHEN kind = 'not_in_accounting' THEN 'dead'
                       ELSE 'done' END,
                  'account.move', %(move)s + n - 1, 1,
                  CASE WHEN kind = 'not_in_accounting'
                       THEN 'Invalid customer reference' END,
                  created + interval '65 minutes',
                  %(user)s, created + interval '1 hour', %(user)s,
                  created + interval '65 minutes'
             FROM bench_n""",
        # Paid invoices: the payment QuickBooks recorded, and its binding.
        """INSERT INTO account_payment
             (id, name, journal_id, company_id, currency_id, partner_id,
              payment_method_line_id, state, payment_type, partner_type, memo,
              date, amount, amount_company_currency_signed, is_reconciled,
              is_matched, is_sent, create_uid, create_date, write_uid, write_date)
           SELECT %(payment)s + n - 1, 'PBNK/B/' || num, %(bank_journal)s,
                  %(company)s, %(currency)s, partner_id, %(payment_method_line)s,
                  'paid', 'inbound', 'customer', 'INV/B/' || num,
                  (created + interval '10 days')::date, total, total, true, true,
                  false, %(user)s, created + interval '10 days', %(user)s,
                  created + interval '10 days'
             FROM bench_n WHERE paid""",
        """INSERT INTO distribution_sync_binding
             (id, backend_id, company_id, res_model, res_id, external_id,
              external_name, sync_date, remote_amount,
              create_uid, create_date, write_uid, write_date)
           SELECT %(qb_payment)s + n - 1, %(quickbooks)s, %(company)s,
                  'account.payment', %(payment)s + n - 1, (700000 + n)::text,
                  'PBNK/B/' || num, created + interval '10 days',
                  total + CASE WHEN kind = 'payment_amount' THEN 1 ELSE 0 END,
                  %(user)s, created + interval '10 days', %(user)s,
                  created + interval '10 days'
             FROM bench_n WHERE paid""",
    ]
    for statement in statements:
        cr.execute(statement, values)
    tables = (
        "sale_order",
        "sale_order_line",
        "stock_picking",
        "distribution_sync_shipment",
        "account_move",
        "account_move_line",
        "sale_order_line_invoice_rel",
        "account_payment",
        "distribution_sync_binding",
        "distribution_sync_message",
    )
    rows = {}
    for table in tables:
        cr.execute(f"SELECT count(*) FROM {table}")
        rows[table] = cr.fetchone()[0]
    seeded = time.perf_counter() - started
    # The statistics a database of this size has (autovacuum's analyse).
    for table in tables:
        cr.execute(f"ANALYZE {table}")
    cr.execute("DROP TABLE bench_n")
    env.cr.commit()
    cr.execute("SELECT pg_database_size(current_database())")
    return {
        "bases": bases,
        "rows": rows,
        "seed_seconds": seeded,
        "analyze_seconds": time.perf_counter() - started - seeded,
        "db_bytes": cr.fetchone()[0],
    }


def shell_reconcile(env, params):
    """Two reconciliation runs, the exceptions they keep, the plans asked."""
    Run = env["distribution.sync.reconciliation"]
    runs = []
    for _turn in range(2):
        env.invalidate_all()
        queries = env.cr.sql_log_count
        started = time.perf_counter()
        run = Run.create({})
        run.action_run()
        env.flush_all()
        wall = time.perf_counter() - started
        env.cr.commit()
        runs.append(
            {
                "wall": wall,
                "queries": env.cr.sql_log_count - queries,
                "duration_ms": run.duration_ms,
                "checked": run.checked_count,
                "found": run.discrepancy_count,
                "new": run.new_count,
                "resolved": run.resolved_count,
                "lines": {
                    line.check_code: {
                        "found": line.discrepancy_count,
                        "checked": line.checked_count,
                        "ms": line.duration_ms,
                    }
                    for line in run.line_ids
                },
            }
        )
    env.cr.execute(
        """SELECT reconciliation_check, count(*), min(occurrence_count),
                  max(occurrence_count)
             FROM distribution_sync_exception
            WHERE category = 'reconciliation' AND state = 'open'
            GROUP BY reconciliation_check"""
    )
    exceptions = {
        code: {"open": n, "min_seen": low, "max_seen": high}
        for code, n, low, high in env.cr.fetchall()
    }
    # The plans asked for, and the slowest check's when the run missed its goal.
    explain = set(params["explain"])
    first = runs[0]
    if first["duration_ms"] > params["goal_ms"]:
        explain.add(max(first["lines"], key=lambda code: first["lines"][code]["ms"]))
    plans = {}
    backends = env["distribution.sync.backend"].search([])
    base = {"backend_ids": backends.ids, "settled": utc_now() - timedelta(hours=1)}
    for check in Run._reconciliation_checks():
        if check["code"] not in explain:
            continue
        env.cr.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + check["query"],
            dict(base, **check.get("params", {})),
        )
        plans[check["code"]] = [row[0] for row in env.cr.fetchall()]
    return {"runs": runs, "exceptions": exceptions, "plans": plans}


def shell_loop(env, params):
    """The checks as a loop over records with the ORM, on the records of the
    first ``loop_orders`` orders: each document read on its own, the related
    records looked up one by one, the figures compared in Python."""
    bases, size = params["bases"], params["loop_orders"]

    def within(*keys):
        """Domain: the ids of the first orders' records of these blocks."""
        domain = []
        for key in keys:
            domain = (["|"] if domain else []) + domain
            domain += ["&", ("id", ">=", bases[key]), ("id", "<", bases[key] + size)]
        return domain

    backends = env["distribution.sync.backend"].search([])
    found, spent = Counter(), Counter()
    env.invalidate_all()
    queries = env.cr.sql_log_count
    started = time.perf_counter()
    for label, check in (
        ("bindings", loop_bindings),
        ("payments", loop_payments),
        ("messages", loop_messages),
        ("shipments", loop_shipments),
        ("pickings", loop_pickings),
        ("invoices", loop_invoices),
    ):
        check_started = time.perf_counter()
        found.update(check(env, backends, within))
        spent[label] = time.perf_counter() - check_started
    seconds = time.perf_counter() - started
    queries = env.cr.sql_log_count - queries
    env.cr.rollback()
    return {"found": found, "spent": spent, "seconds": seconds, "queries": queries}


def loop_bindings(env, backends, within):
    """document_missing, order_total, order_state, move_total, move_state,
    move_balance: each bound order and invoice read on its own."""
    found = Counter()
    bindings = env["distribution.sync.binding"].search(
        [
            ("backend_id", "in", backends.ids),
            ("res_model", "in", ("sale.order", "account.move")),
        ]
        + within("binding", "gone", "qb_move")
    )
    for binding in bindings:
        document = env[binding.res_model].browse(binding.res_id)
        if not document.exists():
            found["document_missing"] += 1
            continue
        currency = document.currency_id
        if binding.res_model == "sale.order":
            cancelled_outside = binding.remote_state == "cancelled"
            if binding.remote_state and cancelled_outside != (
                document.state == "cancel"
            ):
                found["order_state"] += 1
            if (
                document.state != "cancel"
                and not cancelled_outside
                and currency.compare_amounts(
                    document.amount_total, binding.remote_amount
                )
            ):
                found["order_total"] += 1
            continue
        gone = binding.remote_state in ("voided", "deleted")
        if document.state in ("posted", "cancel") and gone != (
            document.state == "cancel"
        ):
            found["move_state"] += 1
        if document.state != "posted" or (binding.remote_state or "posted") != (
            "posted"
        ):
            continue
        if currency.compare_amounts(document.amount_total, binding.remote_amount):
            found["move_total"] += 1
        if currency.compare_amounts(document.amount_residual, binding.remote_residual):
            found["move_balance"] += 1
    return found


def loop_payments(env, backends, within):
    """payment_amount: each bound payment read on its own."""
    found = Counter()
    bindings = env["distribution.sync.binding"].search(
        [("backend_id", "in", backends.ids), ("res_model", "=", "account.payment")]
        + within("qb_payment")
    )
    for binding in bindings:
        payment = env["account.payment"].browse(binding.res_id)
        if not payment.exists() or payment.state in ("draft", "canceled", "rejected"):
            continue
        if payment.currency_id.compare_amounts(payment.amount, binding.remote_amount):
            found["payment_amount"] += 1
    return found


def loop_messages(env, backends, within):
    """order_not_imported: the binding of each order message looked up."""
    settled = utc_now() - timedelta(hours=1)
    messages = env["distribution.sync.message"].search(
        [
            ("backend_id", "in", backends.ids),
            ("direction", "=", "inbound"),
            ("work_key", "=like", "order:%"),
            ("external_id", "!=", False),
            ("state", "not in", ("received", "queued", "error")),
            ("create_date", "<", settled),
        ]
        + within("msg_in", "msg_dead")
    )
    never = set()
    Binding = env["distribution.sync.binding"]
    for message in messages:
        if not Binding.search_count(
            [
                ("backend_id", "=", message.backend_id.id),
                ("res_model", "=", "sale.order"),
                ("external_id", "=", message.external_id),
            ]
        ):
            never.add((message.backend_id.id, message.external_id))
    return Counter(order_not_imported=len(never))


def loop_shipments(env, backends, within):
    """delivered_not_done, postage_over_quote: each label and its delivery."""
    found = Counter()
    shipments = env["distribution.sync.shipment"].search(
        [("backend_id", "in", backends.ids)] + within("shipment")
    )
    delivered = set()
    for shipment in shipments:
        picking = shipment.picking_id
        if (
            not shipment.is_return
            and picking.distribution_sync_tracking_status == "delivered"
            and picking.state not in ("done", "cancel")
        ):
            delivered.add((shipment.backend_id.id, picking.id))
        if shipment.state != "bought" or not (
            shipment.charged_amount and shipment.quoted_amount
        ):
            continue
        if (
            shipment.currency_id.compare_amounts(
                abs(shipment.charged_amount - shipment.quoted_amount),
                shipment.backend_id.carrier_postage_tolerance,
            )
            > 0
        ):
            found["postage_over_quote"] += 1
    found["delivered_not_done"] = len(delivered)
    return found


def loop_pickings(env, backends, within):
    """shipped_without_tracking: the labels of each done delivery looked up."""
    found = Counter()
    pickings = env["stock.picking"].search(
        [
            ("carrier_id.distribution_sync_backend_id", "in", backends.ids),
            ("picking_type_code", "=", "outgoing"),
            ("state", "=", "done"),
        ]
        + within("picking")
    )
    Shipment = env["distribution.sync.shipment"]
    Message = env["distribution.sync.message"]
    for picking in pickings:
        if picking.carrier_tracking_ref:
            continue
        if Shipment.search_count(
            [("picking_id", "=", picking.id), ("tracking_code", "not in", (False, ""))]
        ):
            continue
        # Its label is still on its way (a job will set the tracking number).
        if not Message.search_count(
            [
                ("direction", "=", "outbound"),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("state", "in", ("received", "queued", "error")),
            ]
        ):
            found["shipped_without_tracking"] += 1
    return found


def loop_invoices(env, backends, within):
    """not_in_accounting: the binding and the pending export of each posted
    invoice looked up, for the QuickBooks backends Odoo sends invoices to."""
    found = Counter()
    Binding = env["distribution.sync.binding"]
    Message = env["distribution.sync.message"]
    for backend in backends.filtered(lambda b: b.backend_type == "quickbooks"):
        if not backend._ownership_matrix().may_push("invoice"):
            continue
        invoices = env["account.move"].search(
            [
                ("company_id", "=", backend.company_id.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
            ]
            + within("move")
        )
        for invoice in invoices:
            if Binding.search_count(
                [
                    ("backend_id", "=", backend.id),
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", invoice.id),
                ]
            ):
                continue
            if not Message.search_count(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "outbound"),
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", invoice.id),
                    ("state", "in", ("received", "queued", "error")),
                ]
            ):
                found["not_in_accounting"] += 1
    return found


def shell_milestones(env, params):
    """Two milestone refreshes: the time of each step of ``_refresh`` and of
    its slowest statements, the milestones per step and state, the late
    activities. With ``explain``, the first refresh runs each statement as
    EXPLAIN ANALYZE first (in a savepoint rolled back): its time is then not
    the figure, its slowest statements' plans are."""
    Milestone = env.registry["distribution.sync.milestone"]
    spent = Counter()

    def timed(name, label):
        function = getattr(Milestone, name)

        def wrapper(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return function(self, *args, **kwargs)
            finally:
                key = label(args) if callable(label) else label
                spent[key] += time.perf_counter() - started

        setattr(Milestone, name, wrapper)

    # The steps of ``_refresh`` (those this version of the model has).
    for name in (
        "_collect_orders",
        "_drop_unwanted",
        "_collect_reached",
        "_calendars",
        "_fill_days",
        "_upsert",
        "_notify_late",
        "_close_reached_activities",
    ):
        if hasattr(Milestone, name):
            timed(name, name.lstrip("_").replace("_", " "))
    refreshes = []
    for turn in range(2):
        spent.clear()
        env.invalidate_all()
        queries = env.cr.sql_log_count
        statements, stop = watch_statements(
            env.cr, explain=params["explain"] and turn == 0
        )
        started = time.perf_counter()
        try:
            result = env["distribution.sync.milestone"]._refresh()
        finally:
            wall = time.perf_counter() - started
            stop()
        env.cr.commit()
        env.cr.execute(
            """SELECT step, state, count(*) FROM distribution_sync_milestone
                GROUP BY step, state"""
        )
        counts = [list(row) for row in env.cr.fetchall()]
        env.cr.execute(
            """SELECT count(*) FILTER (WHERE active), count(*)
                 FROM mail_activity WHERE res_model = 'sale.order'"""
        )
        activities = env.cr.fetchone()
        statements.sort(key=lambda record: -record["seconds"])
        refreshes.append(
            {
                "result": result,
                "wall": wall,
                "queries": env.cr.sql_log_count - queries,
                "spent": dict(spent),
                "counts": counts,
                "activities": list(activities),
                "slowest": statements[:4],
            }
        )
    return {"refreshes": refreshes}


def watch_statements(cr, explain=False):
    """Time each statement ``cr`` runs until ``stop()``; with ``explain``, run
    each data statement as EXPLAIN ANALYZE first, in a savepoint rolled back.
    Returns ``(records, stop)``."""
    execute = cr.execute
    records = []
    explainable = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")

    def watched(query, params=None, log_exceptions=True):
        plan = None
        words = query.split(None, 1) if isinstance(query, str) else ()
        if explain and words and words[0].upper() in explainable:
            execute("SAVEPOINT bench_explain")
            execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params)
            plan = [row[0] for row in cr.fetchall()]
            execute("ROLLBACK TO SAVEPOINT bench_explain")
            execute("RELEASE SAVEPOINT bench_explain")
        started = time.perf_counter()
        try:
            return execute(query, params, log_exceptions)
        finally:
            records.append(
                {
                    "seconds": time.perf_counter() - started,
                    "sql": " ".join(str(query).split())[:110],
                    "plan": plan,
                }
            )

    def stop():
        cr.execute = execute

    cr.execute = watched
    return records, stop


SHELL_PREAMBLE = """\
import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
"""


def shell_program(entry, params, helpers=()):
    """The text ``odoo shell`` runs: ``entry(env, params)`` and its helpers,
    its result printed as one ``BENCH {json}`` line."""
    parts = [SHELL_PREAMBLE, f"PARAMS = json.loads({json.dumps(json.dumps(params))})"]
    functions = (utc_now, *helpers, entry)
    parts += [textwrap.dedent(inspect.getsource(f)) for f in functions]
    parts.append(
        f"print({MARK!r} + json.dumps({entry.__name__}(env, PARAMS), default=str),"
        " flush=True)"
    )
    return "\n\n".join(parts) + "\n"


def run_shell(odoo, pg, db, data_dir, workdir, label, entry, params, helpers=()):
    """Run ``entry`` in an ``odoo shell`` on ``db``; its result."""
    out_path = Path(workdir) / f"shell-{label}.out"
    cmd = odoo.command(
        "shell",
        "-d",
        db,
        *odoo.addons_args(ADDONS),
        *pg.odoo_args(),
        "--no-http",
        "--max-cron-threads=0",
        "--log-level=warn",
        f"--data-dir={data_dir}",
    )
    script = shell_program(entry, params, helpers)
    rc = ot.run_logged(cmd, out_path, 7200, label=label, stdin_text=script)
    lines = out_path.read_text(errors="replace").splitlines()
    results = [line[len(MARK) :] for line in lines if line.startswith(MARK)]
    if rc != 0 or not results:
        tail = " | ".join(lines[-12:])
        raise ot.TierError(f"odoo shell ({label}) exited {rc}: {tail}")
    return json.loads(results[-1])


# --------------------------------------------------------------------------
# Report


def code_version():
    """The repository's commit (``-dirty`` with uncommitted changes), if git
    can tell."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(ot.REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except OSError:
        return "unknown"
    return proc.stdout.strip() or "unknown"


def verdict(met):
    return "met" if met else "NOT MET"


def report_seed(args, setup, seed):
    rows = ", ".join(f"{table} {n:,}" for table, n in seed["rows"].items())
    ot.say(
        f"seeded {args.orders:,} orders in {seed['seed_seconds']:.1f} s "
        f"(+ ANALYZE {seed['analyze_seconds']:.1f} s); database "
        f"{seed['db_bytes'] / 1e6:.0f} MB; rows: {rows}"
    )
    ot.say(
        f"  QuickBooks backend: Odoo owns invoices = {setup['odoo_owns_invoices']}; "
        f"postage tolerance {setup['postage_tolerance']}"
    )


def report_runs(result, expected):
    """Print both runs per check; the problems (found counts that differ)."""
    problems = []
    runs = result["runs"]
    for index, run in enumerate(runs, 1):
        checks_ms = sum(line["ms"] for line in run["lines"].values())
        ot.say(
            f"run {index}: duration_ms {run['duration_ms']:,} (checks {checks_ms:,}, "
            f"recording the exceptions {run['duration_ms'] - checks_ms:,}; wall "
            f"{run['wall'] * 1000:,.0f} ms, {run['queries']} SQL statements); "
            f"compared {run['checked']:,}; differences {run['found']} "
            f"(new {run['new']}, resolved {run['resolved']})"
        )
    ot.say(
        f"  {'check':<26}{'seeded':>7}{'found 1':>9}{'found 2':>9}"
        f"{'ms 1':>8}{'ms 2':>8}{'compared':>11}"
    )
    for code in KINDS:
        first, second = (run["lines"].get(code, {}) for run in runs)
        ot.say(
            f"  {code:<26}{expected[code]:>7}{first.get('found', '-'):>9}"
            f"{second.get('found', '-'):>9}{first.get('ms', '-'):>8}"
            f"{second.get('ms', '-'):>8}{first.get('checked', 0):>11,}"
        )
        for index, line in enumerate((first, second), 1):
            if line.get("found") != expected[code]:
                problems.append(
                    f"run {index}: {code} found {line.get('found')}, "
                    f"seeded {expected[code]}"
                )
    others = sorted(set(runs[0]["lines"]) - set(KINDS))
    if others:
        problems.append(f"checks not seeded by the benchmark: {others}")
    total = sum(expected.values())
    second = runs[1]
    if second["new"] or second["resolved"] or second["found"] != total:
        problems.append(
            f"run 2: new {second['new']}, resolved {second['resolved']}, "
            f"found {second['found']} (expected 0, 0, {total})"
        )
    exceptions = result["exceptions"]
    open_count = sum(e["open"] for e in exceptions.values())
    seen = {(e["min_seen"], e["max_seen"]) for e in exceptions.values()}
    ot.say(
        f"  open reconciliation exceptions after run 2: {open_count} "
        f"(seeded {total}); occurrence counts {sorted(seen)}"
    )
    if open_count != total or seen != {(2, 2)}:
        problems.append("run 2 did not keep each difference single (seen twice)")
    return problems


def report_loop(args, loop, expected, run_ms):
    """Print the loop against the set-based run; (ratio, problems)."""
    problems = []
    share = args.loop_orders / args.orders
    for code in KINDS:
        if loop["found"].get(code, 0) != expected[code]:
            problems.append(
                f"loop: {code} found {loop['found'].get(code, 0)}, "
                f"expected {expected[code]} in the first {args.loop_orders:,} orders"
            )
    scaled = loop["seconds"] / share
    run_seconds = run_ms / 1000
    ratio = scaled / run_seconds if run_seconds else float("inf")
    ot.say(
        f"loop over records (ORM), first {args.loop_orders:,} orders: "
        f"{loop['seconds']:.1f} s, {loop['queries']:,} SQL statements; found "
        f"{sum(loop['found'].values())} (expected {sum(expected.values())})"
    )
    ot.say(
        "  per part: "
        + ", ".join(f"{label} {s:.1f} s" for label, s in loop["spent"].items())
    )
    ot.say(
        f"  scaled to {args.orders:,} orders: {scaled:.1f} s vs set-based "
        f"{run_seconds:.2f} s = {ratio:.1f}x   goal >= {GOAL_RATIO:g}x   "
        f"{verdict(ratio >= GOAL_RATIO)}"
    )
    ot.say(
        f"  unscaled: set-based on {args.orders:,} orders {run_seconds:.2f} s vs "
        f"loop on {args.loop_orders:,} orders {loop['seconds']:.1f} s "
        f"({loop['seconds'] / run_seconds:.1f}x)"
    )
    return ratio, problems


def report_milestones(milestones):
    for index, refresh in enumerate(milestones["refreshes"], 1):
        result = refresh["result"]
        ot.say(
            f"milestones refresh {index}: {result['orders']:,} orders in "
            f"{refresh['wall']:.1f} s ({refresh['queries']} SQL statements); "
            f"newly late {result['late']}; activities on orders open/all "
            f"{refresh['activities'][0]}/{refresh['activities'][1]}"
        )
        ot.say(
            "  steps: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in refresh["spent"].items())
        )
        for record in refresh["slowest"][:3]:
            ot.say(f"  {record['seconds']:7.2f} s  {record['sql']}")
    table = {}
    for step, state, count in milestones["refreshes"][-1]["counts"]:
        table.setdefault(step, Counter())[state] = count
    ot.say(f"  {'step':<12}{'pending':>10}{'on_time':>10}{'late':>10}")
    for step, states in table.items():
        ot.say(
            f"  {step:<12}{states['pending']:>10,}{states['on_time']:>10,}"
            f"{states['late']:>10,}"
        )


def print_plans(plans, milestones):
    for code, lines in plans.items():
        ot.say(f"EXPLAIN ANALYZE of the check {code}:")
        for line in lines:
            ot.say(f"    {line}")
    first = milestones["refreshes"][0]
    for record in [r for r in first["slowest"] if r["plan"]][:2]:
        ot.say(f"EXPLAIN ANALYZE of a milestone refresh statement: {record['sql']}")
        for line in record["plan"]:
            ot.say(f"    {line}")


# --------------------------------------------------------------------------
# Main


def create_database(args, odoo, pg, db, workdir, data_dir):
    if args.template:
        cmd = odoo.command(
            "db", *pg.odoo_args(), "-D", str(data_dir), "duplicate", args.template, db
        )
        rc = ot.run_logged(cmd, Path(workdir) / "duplicate.out", 1800, label="copy")
        if rc != 0:
            raise ot.TierError(f"could not copy database {args.template} to {db}")
        ot.say(f"bench: database {db} copied from {args.template}")
        return
    ot.prepare_database(
        odoo,
        pg,
        db,
        ADDONS,
        demo=False,
        reset=False,
        workdir=workdir,
        data_dir=data_dir,
        label="bench",
    )


def benchmark(args, odoo, pg, workdir):
    """Returns (correct, goals met)."""
    db = f"dsync_bench_{uuid.uuid4().hex[:8]}"
    data_dir = Path(workdir) / "data"
    slots = spread_differences(args.orders, args.diffs)
    expected = Counter(slots.values())
    in_loop = Counter(kind for n, kind in slots.items() if n <= args.loop_orders)
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    try:
        create_database(args, odoo, pg, db, workdir, data_dir)

        def shell(label, entry, params, helpers=()):
            ot.say(f"bench: {label} ...")
            return run_shell(
                odoo, pg, db, data_dir, workdir, label, entry, params, helpers
            )

        setup = shell("setup", shell_setup, {"partners": PARTNERS})
        seed = shell(
            "seed",
            shell_seed,
            {
                "setup": setup,
                "orders": args.orders,
                "slots": {str(n): kind for n, kind in slots.items()},
                "now": now,
                "age_min": AGE_MIN,
                "age_span": AGE_SPAN,
                "paid_after": PAID_AFTER,
                "cancelled_every": CANCELLED_EVERY,
            },
        )
        report_seed(args, setup, seed)
        reconcile = shell(
            "reconcile",
            shell_reconcile,
            {"explain": list(args.explain or ()), "goal_ms": GOAL_SECONDS * 1000},
        )
        problems = report_runs(reconcile, expected)
        run_ms = reconcile["runs"][0]["duration_ms"]
        ratio = None
        if args.loop_orders:
            loop = shell(
                "loop",
                shell_loop,
                {"bases": seed["bases"], "loop_orders": args.loop_orders},
                helpers=(
                    loop_bindings,
                    loop_payments,
                    loop_messages,
                    loop_shipments,
                    loop_pickings,
                    loop_invoices,
                ),
            )
            ratio, loop_problems = report_loop(args, loop, in_loop, run_ms)
            problems += loop_problems
        milestones = shell(
            "milestones",
            shell_milestones,
            {"explain": args.explain_milestones},
            helpers=(watch_statements,),
        )
        report_milestones(milestones)
        print_plans(reconcile["plans"], milestones)
        met = summary(args, reconcile, ratio, milestones, problems)
        return not problems, met
    finally:
        if args.keep:
            ot.say(f"bench: database {db} kept (--keep)")
        else:
            ot.odoo_drop_db(odoo, pg, db, data_dir, quiet=True)


def summary(args, reconcile, ratio, milestones, problems):
    line = "=" * 78
    first, second = reconcile["runs"]
    seconds = first["duration_ms"] / 1000
    ot.say(line)
    ot.say(
        f"SUMMARY ({args.orders:,} orders, {args.diffs} differences of each of "
        f"{len(KINDS)} kinds; {os.cpu_count()} CPUs, load average now "
        f"{os.getloadavg()[0]:.1f}; code {args.code})"
    )
    ot.say(
        f"reconciliation run 1: {seconds:.2f} s   goal <= {GOAL_SECONDS:g} s   "
        f"{verdict(seconds <= GOAL_SECONDS)}"
    )
    ot.say(
        f"reconciliation run 2: {second['duration_ms'] / 1000:.2f} s, "
        f"new {second['new']}, resolved {second['resolved']}"
    )
    if ratio is not None:
        ot.say(
            f"set-based vs ORM loop (scaled): {ratio:.1f}x   goal >= "
            f"{GOAL_RATIO:g}x   {verdict(ratio >= GOAL_RATIO)}"
        )
    for index, refresh in enumerate(milestones["refreshes"], 1):
        ot.say(
            f"milestones refresh {index}: {refresh['result']['orders']:,} orders, "
            f"{refresh['wall']:.1f} s"
        )
    ot.say(
        "differences found = seeded: "
        + ("yes, every check, both runs" if not problems else "NO")
    )
    for problem in problems:
        ot.say(f"  {problem}")
    ot.say(line)
    return seconds <= GOAL_SECONDS and (ratio is None or ratio >= GOAL_RATIO)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument(
        "--diffs", type=int, default=50, help="differences of each kind"
    )
    parser.add_argument(
        "--loop-orders",
        type=int,
        default=10_000,
        help="orders whose records the ORM loop compares (0: no loop)",
    )
    parser.add_argument(
        "--explain",
        action="append",
        metavar="CHECK",
        help="print EXPLAIN ANALYZE of this check's query (repeatable); the "
        "slowest check's is printed anyway when the run misses its goal",
    )
    parser.add_argument(
        "--explain-milestones",
        action="store_true",
        help="print EXPLAIN ANALYZE of the first milestone refresh's slowest "
        "statements (each statement then runs twice: that refresh's time is "
        "not the figure)",
    )
    parser.add_argument(
        "--template",
        help="copy this database (the four addons installed, nothing else) "
        "instead of installing them in a new one",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a goal is not met"
    )
    args = parser.parse_args()
    if args.diffs < 1 or args.orders < 2 * args.diffs * len(KINDS):
        parser.error(
            f"--diffs must be positive and --orders at least {2 * len(KINDS)} x --diffs"
        )
    if args.orders > 10_000_000:
        parser.error("--orders must be at most 10,000,000")
    args.loop_orders = max(0, min(args.loop_orders, args.orders))
    args.code = code_version()
    unknown = set(args.explain or ()) - set(KINDS)
    if unknown:
        parser.error(f"--explain: unknown checks {sorted(unknown)}")

    def bench(odoo, pg, workdir):
        correct, met = benchmark(args, odoo, pg, workdir)
        if not correct:
            return 1
        return 1 if args.strict and not met else 0

    return run_benchmark(bench, addons=ADDONS)


if __name__ == "__main__":
    raise SystemExit(main())
