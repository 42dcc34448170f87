# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)
from datetime import datetime, timezone

from markupsafe import Markup, escape

from odoo import Command, api, models
from odoo.tools import email_normalize, escape_psql, format_amount

from ..core import validation as core_validation
from ..core.errors import (
    MappingMissing,
    OwnershipConflict,
    PayloadError,
    TransientError,
    ValidationFailed,
)
from ..core.money import money_compare, to_decimal
from ..core.ownership import describe_line_changes

PARTNER_FIELDS = ("name", "email", "phone", "street", "street2", "city", "zip")


class DistributionSyncImporter(models.AbstractModel):
    """Shared ORM side of inbound sync: canonical form → Odoo documents.

    Channel addons map their payloads to the canonical form of
    ``core.canonical`` and call these methods, so matching, mapping,
    ownership and validation behave the same for every channel. Every
    create/write dict is built in a ``_prepare_*_vals`` method.
    """

    _name = "distribution.sync.importer"
    _description = "Distribution Sync Importer"

    @api.model
    def _search_once(self, records, domain, **kwargs):
        """``records.search(domain, **kwargs)``, searched once per job.

        For the master data an import reads and never writes (products,
        taxes, countries, currencies, pricelists): see the backend's
        ``_job_cached``.
        """
        key = (
            "search",
            records._name,
            records.env.context.get("active_test", True),
            repr(domain),
            repr(sorted(kwargs.items())),
        )
        return records.env["distribution.sync.backend"]._job_cached(
            key, lambda: records.search(domain, **kwargs)
        )

    # ---------------------------------------------------------------- partners
    @api.model
    def _find_country(self, table, code):
        if not code:
            return self.env["res.country"]
        mapping = table.get("country", code)
        if mapping and mapping.country_id:
            return mapping.country_id
        return self._search_once(
            self.env["res.country"], [("code", "=", code.upper())], limit=1
        )

    @api.model
    def _find_state(self, table, country, code):
        if not code:
            return self.env["res.country.state"]
        mapping = table.get("state", code)
        if mapping and mapping.state_id:
            return mapping.state_id
        domain = [("code", "=ilike", escape_psql(code))]
        if country:
            domain.append(("country_id", "=", country.id))
        return self._search_once(self.env["res.country.state"], domain, limit=1)

    @api.model
    def _prepare_partner_vals(self, backend, data, table):
        """Odoo values of a contact or address from canonical data."""
        vals = {key: data[key] for key in PARTNER_FIELDS if data.get(key)}
        country = self._find_country(table, data.get("country_code"))
        if country:
            vals["country_id"] = country.id
        state = self._find_state(table, country, data.get("state_code"))
        if state:
            vals["state_id"] = state.id
        if "is_company" in data:
            vals["is_company"] = bool(data["is_company"])
        return vals

    @api.model
    def _match_partner(self, backend, customer):
        """Binding, then email, then phone; an empty recordset if none.

        A customer with an email matches by phone only a partner without an
        email: a partner with another email is another person (one household,
        one phone), whom this customer's orders must not rename."""
        partners = self.env["res.partner"]
        binding_model = self.env["distribution.sync.binding"]
        if customer.get("external_id"):
            found = binding_model._find_record(
                backend, "res.partner", customer["external_id"]
            )
            if found:
                return found
        company_domain = [("company_id", "in", [backend.company_id.id, False])]
        # The normalised address, compared exactly: never as a pattern, where
        # "_" and "%" of an address would match other customers' addresses.
        email = email_normalize(customer.get("email") or "")
        if email:
            found = partners.search(
                [("email_normalized", "=", email), ("parent_id", "=", False)]
                + company_domain,
                limit=1,
            )
            if found:
                return found
        if customer.get("phone"):
            no_other_email = [("email", "=", False)] if email else []
            found = partners.search(
                [("phone", "=", customer["phone"]), ("parent_id", "=", False)]
                + company_domain
                + no_other_email,
                limit=1,
            )
            if found:
                return found
        return partners

    @api.model
    def _import_customer(self, backend, customer, *, updated_at=None, digest=None):
        """Create or update a customer under the ownership rules.

        Returns ``(partner, problems)``: problems are ``OwnershipConflict``
        errors for changes the channel does not own (nothing of them is
        written).
        """
        table = backend._mapping_table()
        matrix = backend._ownership_matrix()
        partner = self._match_partner(backend, customer)
        values = self._prepare_partner_vals(backend, customer, table)
        company = customer.get("company_name")
        if company and not customer.get("is_company"):
            if values.get("name"):
                # A person buying for a company: Odoo keeps it as the person's
                # company name (one click turns it into a company contact).
                values["company_name"] = company
            else:
                values.update(name=company, is_company=True)
        problems = []
        created = not partner
        if created:
            if not values.get("name"):
                values["name"] = customer.get("email") or customer.get("phone")
            if not values.get("name"):
                raise PayloadError(
                    "The customer has no name, email or phone: it cannot be created.",
                    value=customer.get("external_id"),
                )
            decision = matrix.decide_inbound("customer", values, is_create=True)
            if not decision.allowed:
                # Whatever the policy ("ignore" only silences changes to known
                # customers): the document needs a customer Odoo does not have.
                conflict = OwnershipConflict("customer", decision.conflicts or values)
                who = customer.get("email") or customer.get("phone") or values["name"]
                conflict.message = (
                    f"Odoo owns the customers and {who} is not one of them: create "
                    "the customer in Odoo (same email or phone), then retry."
                )
                raise conflict
            create_vals = {k: v for k, v in values.items() if k not in decision.ignored}
            create_vals.update(customer_rank=1, company_id=False)
            partner = self.env["res.partner"].create(create_vals)
        else:
            changed = {
                key: value
                for key, value in values.items()
                if self._differs(partner[key], value)
            }
            decision = matrix.decide_inbound("customer", changed)
            if decision.apply:
                partner.write({key: changed[key] for key in decision.apply})
            if decision.conflicts:
                conflict = OwnershipConflict("customer", decision.conflicts)
                conflict.record = partner
                problems.append(conflict)
        binding_model = self.env["distribution.sync.binding"]
        # A partner created just now has no binding yet.
        bound = (
            customer.get("external_id")
            and not created
            and binding_model._for_record(backend, partner)
        )
        # A partner matched by email may already be bound to another customer
        # of the channel (one email, two accounts): it keeps that binding.
        if customer.get("external_id") and (
            not bound or bound.external_id == str(customer["external_id"])
        ):
            binding_model._bind(
                backend,
                partner,
                customer["external_id"],
                updated_at=updated_at,
                digest=digest,
                external_name=partner.display_name,
            )
        return partner, problems

    @staticmethod
    def _differs(current, new):
        if hasattr(current, "_name"):
            return current.id != new
        return (current or False) != (new or False)

    @api.model
    def _addresses(self, backend, partner, addresses):
        """``{type: contact}``: the child contact of ``partner`` for each
        ``{type: address}`` (``partner`` itself when the address is empty),
        found among its children or created (all new ones in one create)."""
        table = backend._mapping_table()
        result, missing = {}, []
        for address_type, address in addresses.items():
            if not address:
                result[address_type] = partner
                continue
            vals = self._prepare_partner_vals(backend, address, table)
            vals.setdefault("name", partner.name)
            result[address_type] = next(
                (
                    child
                    for child in partner.child_ids
                    if child.type == address_type
                    and all(not self._differs(child[k], v) for k, v in vals.items())
                ),
                None,
            )
            if result[address_type] is None:
                missing.append(
                    (address_type, dict(vals, parent_id=partner.id, type=address_type))
                )
        if missing:
            created = self.env["res.partner"].create([vals for _type, vals in missing])
            result.update(zip((t for t, _vals in missing), created, strict=True))
        return result

    # ------------------------------------------------------------------ orders
    @api.model
    def _find_product(self, backend, table, line):
        """By SKU (internal reference), then barcode, then product alias."""
        products = self.env["product.product"].with_context(active_test=True)
        company_domain = [("company_id", "in", [backend.company_id.id, False])]
        if line.get("sku"):
            found = self._search_once(
                products, [("default_code", "=", line["sku"])] + company_domain, limit=2
            )
            if len(found) == 1:
                return found
        if line.get("barcode"):
            found = self._search_once(
                products, [("barcode", "=", line["barcode"])] + company_domain, limit=1
            )
            if found:
                return found
        code = line.get("sku") or line.get("barcode")
        mapping = code and table.get("product", code)
        if mapping and mapping.product_id:
            return mapping.product_id
        raise MappingMissing(
            "product",
            code or line.get("name") or line.get("external_id"),
            hint="Create the product with this internal reference (SKU) or "
            "barcode, or map it under Configuration > Mappings, then retry.",
        )

    @api.model
    def _find_taxes(self, backend, table, taxes, taxes_included):
        """Mapped tax, else the company's sale tax with the same rate and the
        same price-included setting."""
        result = self.env["account.tax"]
        for tax in taxes or ():
            label = tax.get("name") or f"{tax.get('rate')}%"
            mapping = table.get("tax", label)
            if mapping and mapping.tax_id:
                result |= mapping.tax_id
                continue
            rate = to_decimal(tax.get("rate") or 0)
            candidates = self._search_once(
                self.env["account.tax"],
                [
                    ("company_id", "=", backend.company_id.id),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                ],
            )
            match = candidates.filtered(
                lambda t, rate=rate: (
                    money_compare(to_decimal(t.amount), rate, "0.0001") == 0
                    and bool(t.price_include) == bool(taxes_included)
                )
            )[:1]
            if not match:
                # The value is the code looked up, so that a mapping created
                # from the exception matches it.
                raise MappingMissing(
                    "tax",
                    label,
                    hint=f"The company has no {rate}% sale tax "
                    f"{'included in' if taxes_included else 'excluded from'} the "
                    "price. Map it to an Odoo tax under Configuration > Mappings, "
                    "then retry.",
                )
            result |= match
        return result

    @api.model
    def _line_quantity(self, table, line, product):
        """(Odoo quantity, Odoo unit, price per Odoo unit) of a channel line.

        The line's unit is converted by its pack-size mapping. A channel that
        sends no unit (a web shop sells a case as a variant of its own) gets
        the pack-size mapping keyed by the line's SKU, when there is one.
        """
        quantity = to_decimal(line["quantity"])
        price = to_decimal(line["price_unit"])
        uom = product.uom_id
        code = line.get("uom")
        if not code and line.get("sku") and ("uom", line["sku"]) in table:
            code = line["sku"]
        if code:
            mapping = table.lookup("uom", code)
            converted = mapping._convert_quantity(quantity)
            uom = mapping.uom_id or uom
            price = price * quantity / converted
            quantity = converted
        return quantity, uom, price

    @api.model
    def _discount_percent(self, line):
        gross = to_decimal(line["quantity"]) * to_decimal(line["price_unit"])
        discount = to_decimal(line.get("discount_amount") or 0)
        if not gross or not discount:
            return 0.0
        return float(discount / gross * 100)

    @api.model
    def _line_price_discount(self, line, quantity, price, currency):
        """(price per Odoo unit, discount %) giving the channel's discounted line
        amount to the cent at the precisions Odoo stores.

        The discount stays a percentage when, rounded to the "Discount"
        precision, it gives that amount; otherwise it goes into the unit price
        when that is exact (and the line's description says by how much, see
        ``_discounted_line_name``). What cannot be exact is left to the total
        rule.

        The channel's price with a discount percentage is what an order desk
        reads best: the line shows what the customer was charged per unit and
        what came off, as Odoo shows its own discounts, and the invoice
        carries both. The order form shows the Disc.% column on channel
        orders whatever the "Discounts" setting (without it, 4 x 12.50 with 8%
        off would read as a wrong 46.00). A separate discount line would hide
        which product the discount was for, and break the per-line refunds.
        """
        percent = self._discount_percent(line)
        if not percent:
            return price, 0.0
        net = to_decimal(line["quantity"]) * to_decimal(line["price_unit"]) - (
            to_decimal(line.get("discount_amount") or 0)
        )
        precision = self.env["decimal.precision"]
        price_digits = precision.precision_get("Product Price")
        discount_digits = precision.precision_get("Discount")

        def exact(unit_price, discount):
            amount = (
                round(float(unit_price), price_digits)
                * float(quantity)
                * (1 - round(discount, discount_digits) / 100)
            )
            return currency.compare_amounts(amount, float(net)) == 0

        if exact(price, percent):
            return price, percent
        if exact(net / quantity, 0.0):
            return net / quantity, 0.0
        return price, percent

    @api.model
    def _discounted_line_name(self, name, line, discount, currency):
        """``name``, saying how much discount the unit price already takes off
        when the channel's discount could not stay a percentage (see
        ``_line_price_discount``): the order desk sees a discount either as
        the Disc.% column or in the description, never as an unexplained
        price."""
        amount = to_decimal(line.get("discount_amount") or 0)
        if discount or not amount:
            return name
        return self.env._(
            "%(name)s (unit price after a discount of %(amount)s)",
            name=name,
            amount=format_amount(self.env, float(amount), currency),
        )

    @api.model
    def _order_currency(self, backend, order):
        currency = backend.company_id.currency_id
        if order.get("currency") and order["currency"] != currency.name:
            currency = (
                self._search_once(
                    self.env["res.currency"].with_context(active_test=False),
                    [("name", "=", order["currency"])],
                    limit=1,
                )
                or currency
            )
        return currency

    @api.model
    def _prepare_order_line_vals(self, backend, table, line, order):
        product = self._find_product(backend, table, line)
        quantity, uom, price = self._line_quantity(table, line, product)
        currency = self._order_currency(backend, order)
        price, discount = self._line_price_discount(line, quantity, price, currency)
        taxes = self._find_taxes(
            backend, table, line.get("taxes"), order.get("taxes_included")
        )
        return {
            "product_id": product.id,
            "name": self._discounted_line_name(
                line.get("name") or product.display_name, line, discount, currency
            ),
            "product_uom_qty": float(quantity),
            "product_uom": uom.id,
            "price_unit": float(price),
            "discount": discount,
            "tax_id": [Command.set(taxes.ids)],
            "distribution_sync_line_ref": line.get("external_id") or False,
            "distribution_sync_channel_qty": float(to_decimal(line["quantity"])),
        }

    @api.model
    def _prepare_shipping_line_vals(self, backend, table, shipping, order):
        """The delivery line of a shipping line: the product of its carrier
        mapping (by shipping code), else the backend's shipping product."""
        carrier = shipping.get("code") and table.get("carrier", shipping["code"])
        product = (carrier and carrier.product_id) or backend.shipping_product_id
        if not product:
            raise MappingMissing("carrier", shipping.get("code") or "shipping")
        taxes = self._find_taxes(
            backend, table, shipping.get("taxes"), order.get("taxes_included")
        )
        price = to_decimal(shipping.get("price") or 0)
        currency = self._order_currency(backend, order)
        price, discount = self._line_price_discount(
            {
                "quantity": 1,
                "price_unit": price,
                "discount_amount": shipping.get("discount_amount"),
            },
            to_decimal(1),
            price,
            currency,
        )
        return {
            "product_id": product.id,
            "name": self._discounted_line_name(
                shipping.get("title") or shipping.get("code") or product.name,
                shipping,
                discount,
                currency,
            ),
            "product_uom_qty": 1.0,
            "product_uom": product.uom_id.id,
            "price_unit": float(price),
            "discount": discount,
            "tax_id": [Command.set(taxes.ids)],
        }

    @api.model
    def _find_pricelist(self, backend, currency_code):
        """A pricelist in the order's currency; none is needed for the
        company currency."""
        company = backend.company_id
        if not currency_code or currency_code == company.currency_id.name:
            currency = company.currency_id
        else:
            currency = self._search_once(
                self.env["res.currency"].with_context(active_test=False),
                [("name", "=", currency_code)],
                limit=1,
            )
        pricelist = self.env["product.pricelist"]
        if currency:
            pricelist = self._search_once(
                pricelist,
                [
                    ("currency_id", "=", currency.id),
                    ("company_id", "in", [company.id, False]),
                ],
                limit=1,
            )
        if not pricelist and currency != company.currency_id:
            raise MappingMissing(
                "currency",
                currency_code,
                hint=f"Create a pricelist in {currency_code} (and activate the "
                "currency), then retry.",
            )
        return pricelist

    @api.model
    def _order_date(self, order):
        """The channel's order date (``ordered_at``, else ``created_at``) as Odoo
        stores a date-time (naive UTC), or None when the channel gives none."""
        when = order.get("ordered_at") or order.get("created_at")
        if not isinstance(when, datetime):
            return None
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc).replace(tzinfo=None)
        return when

    @api.model
    def _prepare_sale_order_vals(self, backend, order, partner, addresses, lines):
        """Values of a new sale order: the channel's order date, the backend's
        salesperson and sales team (never the technical user running the job:
        no salesperson when the backend names none)."""
        pricelist = self._find_pricelist(backend, order.get("currency"))
        salesperson = backend._order_salesperson()
        vals = {
            "user_id": salesperson.id or False,
            "partner_id": partner.id,
            "partner_invoice_id": addresses["invoice"].id,
            "partner_shipping_id": addresses["delivery"].id,
            "company_id": backend.company_id.id,
            "pricelist_id": pricelist.id or False,
            "client_order_ref": order.get("name") or order["external_id"],
            "origin": f"{backend.name}: {order.get('name') or order['external_id']}",
            "order_line": [Command.create(line) for line in lines],
        }
        if backend.order_team_id:
            vals["team_id"] = backend.order_team_id.id
        if order.get("note"):
            vals["note"] = order["note"]
        date_order = self._order_date(order)
        if date_order:
            vals["date_order"] = date_order
        return vals

    @api.model
    def _order_partners(self, backend, order):
        customer = dict(order.get("customer") or {})
        billing = order.get("billing_address") or {}
        if not customer.get("email") and billing.get("email"):
            customer["email"] = billing["email"]
        if not customer.get("name"):
            customer["name"] = billing.get("name") or (
                order.get("shipping_address") or {}
            ).get("name")
        partner, problems = self._import_customer(backend, customer)
        addresses = self._addresses(
            backend,
            partner,
            {"invoice": billing, "delivery": order.get("shipping_address")},
        )
        return partner, addresses, problems

    @api.model
    def _validation_document(self, backend, sale_order, order, lines):
        rounding = str(sale_order.currency_id.rounding)
        pricelist = sale_order.pricelist_id
        doc_lines = []
        for line, so_line in zip(
            order.get("lines") or (), sale_order.order_line, strict=False
        ):
            list_price = (
                pricelist._get_product_price(
                    so_line.product_id, so_line.product_uom_qty, uom=so_line.product_uom
                )
                if pricelist
                else so_line.product_id.lst_price
            )
            doc_lines.append(
                {
                    "ref": line.get("sku") or line.get("name"),
                    "product": so_line.product_id.id,
                    "price_unit": str(so_line.price_unit),
                    "list_price": str(list_price) if list_price else None,
                }
            )
        partner = sale_order.partner_id
        return {
            "currency": sale_order.currency_id.name,
            "rounding": rounding,
            "expected_total": str(order["total"])
            if order.get("total") is not None
            else None,
            "computed_total": str(sale_order.amount_total),
            "lines": doc_lines,
            "partner": {
                "name": partner.name,
                "email": partner.email,
                "phone": partner.phone,
                "street": partner.street,
                "city": partner.city,
                "zip": partner.zip,
                "country_code": partner.country_id.code,
            },
        }

    @api.model
    def _validate(self, backend, document_type, document):
        rules = backend.validation_rule_ids.filtered(
            lambda r: r.active and r.document_type == document_type
        )
        return core_validation.validate(document, [rule._to_core() for rule in rules])

    @api.model
    def _should_confirm(self, backend, order):
        if order.get("confirm") is not None:
            return bool(order["confirm"])
        return (order.get("financial_status") or "") in backend._confirm_statuses()

    @api.model
    def _import_sale_order(self, backend, order, message):
        """Create or update the one sale order of a canonical order.

        Returns a ``_process_message`` result. Unknown products, taxes or
        units raise (nothing is created); a blocking validation rule keeps
        the order as an unconfirmed quotation, reports the problem and says
        so in the order's chatter (once per hold). An order cancelled in the
        channel (``cancelled_at``) is neither checked nor confirmed: it is
        cancelled as ``_cancel_sale_order`` cancels a known order.
        """
        binding_model = self.env["distribution.sync.binding"]
        binding = binding_model._find(backend, "sale.order", order["external_id"])
        sale_order = binding and binding._record()
        force = self.env.context.get("distribution_sync_force")
        updated_at = order.get("updated_at")
        result = {
            "res_model": "sale.order",
            "canonical": order,
            "external_id": order["external_id"],
        }
        reason = (
            sale_order
            and not force
            and binding._skip_reason(updated_at, message.payload_digest, "order")
        )
        if reason:
            return dict(result, res_id=sale_order.id, state="skipped", summary=reason)
        table = backend._mapping_table()
        lines = [
            self._prepare_order_line_vals(backend, table, line, order)
            for line in order["lines"]
        ] + [
            self._prepare_shipping_line_vals(backend, table, shipping, order)
            for shipping in order.get("shipping") or ()
        ]
        partner, addresses, problems = self._order_partners(backend, order)
        if sale_order:
            problems += self._update_sale_order(backend, sale_order, order, lines)
        else:
            vals = self._prepare_sale_order_vals(
                backend, order, partner, addresses, lines
            )
            sale_order = (
                self.env["sale.order"].with_company(backend.company_id).create(vals)
            )
            result["odoo_values"] = vals
        state = "done"
        cancelled = bool(order.get("cancelled_at"))
        # Lines kept against the channel's change differ from its totals on
        # purpose: the conflict says so, a failed total rule would repeat it.
        # A cancelled order will not be confirmed: nothing to hold.
        if not cancelled and not any(
            isinstance(problem, OwnershipConflict) and "order_line" in problem.fields
            for problem in problems
        ):
            report = self._validate(
                backend,
                "sale_order",
                self._validation_document(backend, sale_order, order, lines),
            )
            problems += [
                _validation_problem(failure, sale_order) for failure in report.failures
            ]
            if report.blocking:
                state = "blocked"
            self._note_hold(backend, sale_order, report.blocking)
        if (
            state == "done"
            and not cancelled
            and sale_order.state in ("draft", "sent")
            and self._should_confirm(backend, order)
        ):
            # Not bound yet: the context keeps the channel's order date.
            sale_order.with_context(
                distribution_sync_keep_date_order=True
            ).action_confirm()
        binding_model._bind(
            backend,
            sale_order,
            order["external_id"],
            binding=binding,
            updated_at=updated_at,
            digest=message.payload_digest,
            external_name=order.get("name"),
            remote_amount=order.get("total"),
            remote_state=self._remote_order_state(order),
        )
        if cancelled and sale_order.state != "cancel":
            cancel = self._cancel_sale_order(backend, order["external_id"], message)
            problems += cancel.get("problems") or []
            if cancel["state"] == "blocked":
                state = "blocked"
        return dict(
            result,
            res_id=sale_order.id,
            state=state,
            problems=problems,
            summary=f"{sale_order.name} ({sale_order.state})",
        )

    @api.model
    def _note_hold(self, backend, sale_order, failures):
        """Say in the order's chatter which checks hold it as a quotation, once
        per hold: a repeat of the same checks (a webhook delivered again, a
        retry) adds nothing, an order no longer held is forgotten."""
        if sale_order.state not in ("draft", "sent"):
            return
        codes = ",".join(sorted({failure.code for failure in failures}))
        if (sale_order.distribution_sync_held_checks or "") == codes:
            return
        sale_order.distribution_sync_held_checks = codes or False
        if not codes:
            return
        checks = Markup().join(
            Markup("<li>%s</li>") % failure.message for failure in failures
        )
        inbox = Markup('<a href="/odoo/action-%s">%s</a>') % (
            "distribution_sync.action_distribution_sync_exception",
            self.env._("Sync > Exceptions"),
        )
        body = Markup("<p>%s</p><ul>%s</ul><p>%s</p>") % (
            self.env._(
                "Imported from %(backend)s but left as a quotation: these "
                "checks failed.",
                backend=backend.name,
            ),
            checks,
            # Translated first, then filled: the link stays a link.
            escape(
                self.env._(
                    "Resolve their exceptions (the Sync exceptions button, "
                    "or the inbox under %(inbox)s), then retry the message."
                )
            )
            % {"inbox": inbox},
        )
        sale_order.message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_note"
        )

    @api.model
    def _remote_order_state(self, order):
        """The channel's status of ``order`` as reconciliation compares it:
        ``cancelled``, else its payment status (``open`` when it has none)."""
        if order.get("cancelled_at"):
            return "cancelled"
        return order.get("financial_status") or "open"

    @api.model
    def _line_signature(self, lines, label=None):
        """Comparable form of order lines: (product, quantity, price,
        discount), sorted; the product as ``label[product id]`` when given."""
        return sorted(
            (
                label.get(line["product_id"], "?") if label else line["product_id"],
                round(line["product_uom_qty"], 4),
                round(line["price_unit"], 4),
                round(line.get("discount") or 0.0, 2),
            )
            for line in lines
        )

    @api.model
    def _lines_for_people(self, lines):
        """The signature of order line values with product references, for
        messages."""
        products = self.env["product.product"].browse(
            {line["product_id"] for line in lines if line.get("product_id")}
        )
        return self._line_signature(
            lines, {p.id: p.default_code or p.display_name for p in products}
        )

    @api.model
    def _order_line_values(self, sale_order):
        """The product lines of ``sale_order`` in the shape of the line values
        an import writes (what ``_line_signature`` compares)."""
        return [
            {
                "product_id": line.product_id.id,
                "product_uom_qty": line.product_uom_qty,
                "price_unit": line.price_unit,
                "discount": line.discount,
            }
            for line in sale_order.order_line
            if not line.display_type
        ]

    @api.model
    def _update_sale_order(self, backend, sale_order, order, lines):
        """Apply a later version of an order; return conflicts (not applied)."""
        current = self._line_signature(self._order_line_values(sale_order))
        changed = {}
        if current != self._line_signature(lines):
            changed["order_line"] = lines
        ref = order.get("name") or order["external_id"]
        if sale_order.client_order_ref != ref:
            changed["client_order_ref"] = ref
        if order.get("note") and str(sale_order.note or "") != order["note"]:
            changed["note"] = order["note"]
        if not changed:
            return []
        matrix = backend._ownership_matrix()
        decision = matrix.decide_inbound("order", changed)
        apply = set(decision.apply)
        conflicts = set(decision.conflicts)
        if "order_line" in apply and sale_order.state not in ("draft", "sent"):
            # Confirmed: pickings and invoices hang on the lines.
            apply.discard("order_line")
            conflicts.add("order_line")
        vals = {key: changed[key] for key in apply if key != "order_line"}
        if "order_line" in apply:
            vals["order_line"] = [Command.clear()] + [
                Command.create(line) for line in lines
            ]
        if vals:
            sale_order.write(vals)
        if not conflicts:
            return []
        conflict = OwnershipConflict("order", conflicts)
        if "order_line" in conflicts and sale_order.state not in ("draft", "sent"):
            changes = describe_line_changes(
                self._lines_for_people(self._order_line_values(sale_order)),
                self._lines_for_people(lines),
            )
            conflict.message = (
                f"Order {sale_order.name} is already confirmed in Odoo; the channel "
                f"changed {', '.join(sorted(conflicts))}"
                + (f" ({'; '.join(changes)})" if changes else "")
                + ". Adjust the order in Odoo (or cancel and re-import it)."
            )
        conflict.record = sale_order
        return [conflict]

    @api.model
    def _cancel_sale_order(self, backend, external_id, message):
        """Cancel the order unless something shipped (then: a conflict)."""
        binding = self.env["distribution.sync.binding"]._find(
            backend, "sale.order", external_id
        )
        sale_order = binding and binding._record()
        result = {"res_model": "sale.order", "external_id": external_id}
        if not sale_order:
            return dict(
                result, state="skipped", summary="Unknown order: nothing to cancel."
            )
        result["res_id"] = sale_order.id
        binding.sudo().write({"remote_state": "cancelled"})
        if sale_order.state == "cancel":
            if sale_order.id in self._cancelled_by(message):
                # Cancelled on import by this same message (it arrived
                # cancelled): this cancellation is its work, not a repeat.
                return dict(
                    result, state="done", summary=f"{sale_order.name} cancelled"
                )
            return dict(result, state="skipped", summary="Already cancelled.")
        shipped = any(
            picking.state == "done" and picking.picking_type_code == "outgoing"
            for picking in sale_order.picking_ids
        )
        if shipped:
            conflict = OwnershipConflict("order", ["state"])
            conflict.message = (
                f"Order {sale_order.name} was cancelled in the channel but has "
                "already shipped: create a return and a credit note in Odoo."
            )
            conflict.record = sale_order
            return dict(result, state="blocked", problems=[conflict])
        sale_order.with_context(disable_cancel_warning=True).action_cancel()
        self._cancelled_by(message).add(sale_order.id)
        return dict(result, state="done", summary=f"{sale_order.name} cancelled")

    @api.model
    def _cancelled_by(self, message):
        """Ids of the orders ``message`` cancelled (kept for the transaction)."""
        cancelled = self.env.cr.cache.setdefault("distribution_sync.cancelled_by", {})
        return cancelled.setdefault(message.id, set())

    # ----------------------------------------------------------------- refunds
    @api.model
    def _refund_sale_line(self, order, line):
        """The order line a refunded line refers to: by the channel's line id
        (``distribution_sync_line_ref``), else by SKU."""
        so_lines = order.order_line.filtered(lambda sol: not sol.display_type)
        found = so_lines.filtered(
            lambda sol: (
                sol.distribution_sync_line_ref
                and sol.distribution_sync_line_ref == line.get("line_external_id")
            )
        )[:1]
        if not found and line.get("sku"):
            found = so_lines.filtered(
                lambda sol: sol.product_id.default_code == line["sku"]
            )[:1]
        if not found:
            raise MappingMissing(
                "product",
                line.get("sku") or line.get("line_external_id"),
                hint=f"The refunded line is not on order {order.name}: check the "
                "order, then retry.",
            )
        return found

    @api.model
    def _refund_quantity(self, sale_line, quantity):
        """``quantity`` in the channel's units of ``sale_line`` in the line's
        own unit: a case sold as a variant of its own is one unit in the
        channel and, say, 12 in Odoo."""
        quantity = to_decimal(quantity)
        channel_qty = sale_line.distribution_sync_channel_qty
        if not channel_qty or not sale_line.product_uom_qty:
            return quantity
        return (
            quantity * to_decimal(sale_line.product_uom_qty) / to_decimal(channel_qty)
        )

    @api.model
    def _prepare_credit_note_line_vals(self, sale_line, quantity, amount, name=None):
        """A credit note line of ``quantity`` (in the sale line's unit) of
        ``sale_line`` for ``amount``, with the sale line's taxes."""
        quantity = to_decimal(quantity)
        amount = to_decimal(amount)
        if not quantity:
            quantity = to_decimal(1)
        return {
            "product_id": sale_line.product_id.id,
            "name": name or sale_line.name,
            "quantity": float(quantity),
            "product_uom_id": sale_line.product_uom.id,
            "price_unit": float(amount / quantity),
            "tax_ids": [Command.set(sale_line.tax_id.ids)],
            "sale_line_ids": [Command.set(sale_line.ids)],
        }

    @api.model
    def _prepare_credit_note_vals(self, backend, order, refund, lines):
        invoices = order.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        )
        vals = {
            "move_type": "out_refund",
            "partner_id": order.partner_invoice_id.id,
            "company_id": order.company_id.id,
            "currency_id": order.currency_id.id,
            "invoice_origin": order.name,
            "ref": self.env._(
                "Refund %(refund)s of %(order)s",
                refund=refund["external_id"],
                order=order.client_order_ref or order.name,
            ),
            "narration": refund.get("note") or False,
            "invoice_line_ids": [Command.create(line) for line in lines],
        }
        if len(invoices) == 1:
            vals["reversed_entry_id"] = invoices.id
        return vals

    @api.model
    def _import_credit_note(self, backend, refund, message):
        """One customer credit note per channel refund id, from a canonical
        refund (``core.canonical.parse_refund``'s result).

        Refunded lines, shipping and adjustments are credited exactly to the
        cent: the credit note total must equal what the channel refunded,
        otherwise it stays in draft and a validation exception says why.
        Items that come back to stock (``restock``) of a shipped order also
        prepare (not validate) the return. A refund whose order is not
        imported yet waits for it (``TransientError``).
        """
        binding_model = self.env["distribution.sync.binding"]
        result = {
            "res_model": "account.move",
            "canonical": refund,
            "external_id": refund["external_id"],
        }
        existing = binding_model._find_record(
            backend, "account.move", refund["external_id"]
        )
        if existing and existing.state == "draft":
            # Left in draft because it did not match the refund: check it again
            # (a person may have corrected it) and post it once it matches.
            problems = self._credit_note_total_problems(existing, refund)
            if not problems:
                existing.action_post()
            return dict(
                result,
                res_id=existing.id,
                state="blocked" if problems else "done",
                problems=problems,
                summary=f"{existing.name} ({existing.state})",
            )
        if existing:
            return dict(
                result,
                res_id=existing.id,
                state="skipped",
                summary=f"{existing.name} already made for this refund.",
            )
        order = binding_model._find_record(backend, "sale.order", refund["order_id"])
        if not order:
            # Refunds can overtake their order: wait for it.
            raise TransientError(
                self.env._(
                    "Order %(order)s of refund %(refund)s is not imported yet.",
                    order=refund["order_id"],
                    refund=refund["external_id"],
                )
            )
        lines = []
        returns = {}
        for line in refund.get("lines") or ():
            sale_line = self._refund_sale_line(order, line)
            quantity = self._refund_quantity(sale_line, line.get("quantity") or 0)
            lines.append(
                self._prepare_credit_note_line_vals(
                    sale_line, quantity, line.get("subtotal") or 0
                )
            )
            if line.get("restock") and quantity:
                returns[sale_line] = returns.get(sale_line, 0.0) + float(quantity)
        shipping = to_decimal(refund.get("shipping") or 0)
        if shipping:
            shipping_line = order.order_line.filtered(
                lambda sol: sol.product_id == backend.shipping_product_id
            )[:1]
            if not shipping_line:
                raise MappingMissing(
                    "carrier",
                    "shipping",
                    hint=f"Order {order.name} has no shipping line to refund.",
                )
            lines.append(
                self._prepare_credit_note_line_vals(
                    shipping_line, 1, shipping, name=self.env._("Shipping refund")
                )
            )
        move = (
            self.env["account.move"]
            .with_company(order.company_id)
            .create(self._prepare_credit_note_vals(backend, order, refund, lines))
        )
        problems = self._adjust_credit_note(move, refund)
        if not problems:
            move.action_post()
        if returns:
            self._prepare_return(order, returns)
        binding_model._bind(
            backend,
            move,
            refund["external_id"],
            updated_at=refund.get("created_at"),
            digest=message.payload_digest,
            external_name=move.name,
            remote_amount=refund.get("total"),
        )
        return dict(
            result,
            res_id=move.id,
            state="blocked" if problems else "done",
            problems=problems,
            summary=f"{move.name} ({move.state})",
        )

    @api.model
    def _adjust_credit_note(self, move, refund):
        """Match the refunded total to the cent; return validation problems."""
        expected = refund.get("total")
        if expected is None:
            return []
        rounding = str(move.currency_id.rounding)
        difference = to_decimal(expected) - to_decimal(move.amount_total)
        if money_compare(difference, 0, rounding) == 0:
            return []
        discrepancy = to_decimal(refund.get("discrepancy") or 0)
        if money_compare(discrepancy, 0, rounding) != 0:
            # What the channel kept (or refunded on top), credited as an
            # untaxed line of exactly that amount: it must not absorb any
            # other difference.
            move.write(
                {
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": self.env._("Refund adjustment"),
                                "quantity": 1,
                                "price_unit": float(-discrepancy),
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ]
                }
            )
        return self._credit_note_total_problems(move, refund)

    @api.model
    def _credit_note_total_problems(self, move, refund):
        """A validation problem when the credit note does not total what the
        channel refunded (to the cent), else nothing."""
        expected = refund.get("total")
        if expected is None:
            return []
        difference = to_decimal(expected) - to_decimal(move.amount_total)
        if money_compare(difference, 0, str(move.currency_id.rounding)) == 0:
            return []
        failure = core_validation.RuleFailure(
            code="total_tolerance",
            severity="block",
            message=self.env._(
                "Credit note %(move)s totals %(computed)s but the channel refunded "
                "%(expected)s: correct the credit note, then retry.",
                move=move.name or move.display_name,
                computed=move.amount_total,
                expected=expected,
            ),
            value=str(expected),
        )
        problem = ValidationFailed([failure])
        problem.record = move
        return [problem]

    @api.model
    def _prepare_return(self, order, quantities):
        """Prepare (not validate) the return to stock of ``quantities``
        (``{sale line: quantity in its unit}``) from the order's last
        delivery; returns the return picking, or nothing when the order has
        not shipped."""
        if "picking_ids" not in order._fields:
            # Without sale_stock an order has no deliveries to return.
            return self.env["stock.picking"]
        pickings = order.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
        )
        if not pickings:
            return self.env["stock.picking"]
        picking = pickings[-1]
        # The wizard posts on the return's chatter; the technical user running
        # the job has no email address, which only superuser mode tolerates.
        wizard = (
            self.env["stock.return.picking"]
            .sudo()
            .with_context(active_id=picking.id, active_model="stock.picking")
            .create({"picking_id": picking.id})
        )
        for return_line in wizard.product_return_moves:
            sale_line = return_line.move_id.sale_line_id
            return_line.quantity = min(
                quantities.get(sale_line, 0.0), return_line.move_id.quantity
            )
        if not any(wizard.product_return_moves.mapped("quantity")):
            return self.env["stock.picking"]
        action = wizard.action_create_returns()
        return self.env["stock.picking"].browse(action["res_id"])


def _validation_problem(failure, record):
    """A validation exception (blocking or warning) about ``record``."""
    problem = ValidationFailed([failure])
    # The rule's name, as the rules list shows it (not its code).
    problem.value = dict(core_validation.RULE_TYPES).get(failure.code, failure.code)
    problem.record = record
    problem.severity = "warning" if failure.severity != "block" else "error"
    return problem
