import uuid


from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_amount

from .. import const
from .row_lock import lock_rows
from .payment_transaction import commit_unless_testing


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "posbridge.link.document"]

    posbridge_transaction_ids = fields.Many2many(
        string="Terminal transactions", comodel_name="payment.transaction",
        compute="_compute_posbridge_transactions", compute_sudo=True,
    )
    posbridge_transaction_count = fields.Integer(
        string="Terminal transaction count", compute="_compute_posbridge_transactions", compute_sudo=True)
    posbridge_pending_transaction_id = fields.Many2one(
        string="Open terminal request", comodel_name="payment.transaction",
        compute="_compute_posbridge_transactions", compute_sudo=True,
    )
    posbridge_banner = fields.Char(string="Terminal request", compute="_compute_posbridge_transactions", compute_sudo=True)
    posbridge_pending_is_hesabe = fields.Boolean(
        string="Open request on Hesabe", compute="_compute_posbridge_transactions", compute_sudo=True)
    posbridge_pending_is_embedded = fields.Boolean(
        string="Open request on the embedded sandbox", compute="_compute_posbridge_transactions", compute_sudo=True)
    posbridge_can_pay = fields.Boolean(string="Can be paid on a terminal", compute="_compute_posbridge_can_pay")

    # === COMPUTE METHODS === #

    @api.depends("transaction_ids.state", "transaction_ids.posbridge_terminal_id")
    @api.depends_context("lang")  # the banner is a text
    def _compute_posbridge_transactions(self):
        """As superuser (compute_sudo): 19.0 shows an order's `transaction_ids` to invoicing users
        only, and a salesperson follows the terminal requests of the orders they can read."""
        for order in self:
            txs = order.transaction_ids.filtered(
                lambda tx: tx.provider_code in const.PROVIDER_CODES and not tx.posbridge_link_channel)
            pending = txs.filtered(lambda tx: tx.state == "pending")[:1]
            order.posbridge_transaction_ids = txs
            order.posbridge_transaction_count = len(txs)
            order.posbridge_pending_transaction_id = pending
            order.posbridge_pending_is_hesabe = pending.provider_code == const.HESABE
            order.posbridge_pending_is_embedded = bool(pending) and pending.posbridge_is_embedded
            # (no f-string inside _(): the babel of Odoo 18's requirements evaluates it and stops
            # extracting the file's texts; scripts/odoo_series.py check catches it)
            amount = "%s %s" % (pending._posbridge_amount(), pending.currency_id.name) if pending else ""
            order.posbridge_banner = _(
                "Waiting for %(amount)s on terminal %(terminal)s",
                amount=amount, terminal=pending.posbridge_terminal_id.name,
            ) if pending else False

    @api.depends("state", "amount_total", "amount_paid", "company_id")
    def _compute_posbridge_can_pay(self):
        enabled = self.env["payment.provider"].sudo().search([
            ("code", "in", const.PROVIDER_CODES), ("state", "in", ("enabled", "test")),
        ])
        for order in self:
            order.posbridge_can_pay = (
                order.state in ("draft", "sent", "sale")
                and order.company_id in enabled.company_id
                and order.currency_id.compare_amounts(order.amount_total - order.amount_paid, 0) > 0
            )

    # === ACTIONS === #

    def action_posbridge_pay(self):
        """Open the Pay on terminal wizard."""
        self.ensure_one()
        self._posbridge_check_payable()
        action = self.env["ir.actions.act_window"]._for_xml_id("posbridge.action_posbridge_pay_wizard")
        action["context"] = {"active_model": "sale.order", "active_id": self.id, "active_ids": self.ids}
        return action

    def action_posbridge_resend(self):
        self.ensure_one()
        tx = self.posbridge_pending_transaction_id
        action = self.env["ir.actions.act_window"]._for_xml_id("posbridge.action_posbridge_pay_wizard")
        action["context"] = {
            "active_model": "sale.order", "active_id": self.id, "active_ids": self.ids,
            "default_resend_transaction_id": tx.id,
        }
        return action

    def action_posbridge_check_status(self):
        """Ask the vendor about this order's open terminal request (and any watched one)."""
        txs = self.sudo().transaction_ids.filtered_domain(self.env["payment.transaction"]._posbridge_watch_domain())
        if not txs:
            raise UserError(_("This order has no terminal request to check."))
        txs._posbridge_check_status()
        pending = txs.filtered(lambda tx: tx.state == "pending")[:1]
        if pending:
            return self.env["payment.provider"]._posbridge_notification(
                _("%s is not paid yet on the terminal.", pending.reference), "info")
        return True

    def action_posbridge_cancel(self):
        """Cancel the open terminal request in Odoo. Neither vendor cancels a request remotely,
        so the user is told to cancel it on the device too; a later payment is still recorded."""
        self.ensure_one()
        tx = self.sudo().posbridge_pending_transaction_id
        if not tx:
            raise UserError(_("This order has no open terminal request."))
        tx._posbridge_cancel_locally(_("Cancelled in Odoo by %s.", self.env.user.name))
        message = _(
            "The request %(ref)s is cancelled in Odoo. If terminal %(terminal)s still shows it, cancel "
            "it on the device: a payment made there anyway is still recorded.",
            ref=tx.reference, terminal=tx.posbridge_terminal_id.name,
        )
        self.message_post(body=message)
        return self.env["payment.provider"]._posbridge_notification(message, "warning", sticky=True)

    def action_posbridge_mark_paid(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("posbridge.action_posbridge_force_done_wizard")
        tx = self.sudo().transaction_ids.filtered(
            lambda t: t.provider_code in const.PROVIDER_CODES and t.state in ("pending", "cancel", "error")
        ).sorted("id")[-1:]
        action["context"] = {"default_transaction_id": tx.id}
        return action

    def action_posbridge_view_transactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("posbridge.action_posbridge_transactions")
        action["domain"] = [("id", "in", self.posbridge_transaction_ids.ids)]
        return action

    def action_posbridge_simulate_paid(self):
        return self.posbridge_pending_transaction_id.sudo().action_posbridge_simulate("paid")

    def action_posbridge_simulate_declined(self):
        return self.posbridge_pending_transaction_id.sudo().action_posbridge_simulate("declined")

    def action_posbridge_simulate_cancelled(self):
        return self.posbridge_pending_transaction_id.sudo().action_posbridge_simulate("cancelled")

    # === BUSINESS METHODS === #

    def _posbridge_payment_amounts(self):
        """What the Pay on terminal wizard proposes, the same on every series: the prepayment
        still needed to confirm a quotation that asks for one, else what is left to pay.
        (Odoo 19's payment-link default no longer subtracts what is paid already.)

        :return: ``{"amount": ..., "amount_max": ..., "amount_paid": ...}``
        """
        self.ensure_one()
        left = self._posbridge_amount_left()
        prepayment = self._get_prepayment_required_amount()
        if (self.state in ("draft", "sent") and self.require_payment
                and self.currency_id.compare_amounts(prepayment, self.amount_paid) > 0):
            amount = prepayment - self.amount_paid
        else:
            amount = left
        return {"amount": min(amount, left), "amount_max": left, "amount_paid": self.amount_paid}

    def _posbridge_customer_phone(self):
        """The customer's phone: `phone`, else `mobile` where the series still has it (19.0
        dropped `res.partner.mobile`)."""
        partner = self.partner_id
        return partner.phone or ("mobile" in partner._fields and partner.mobile) or False

    # === PAY BY HESABE LINK (posbridge.link.document) === #

    def _posbridge_link_left(self):
        return self._posbridge_amount_left()

    def _posbridge_link_proposed_amount(self):
        return self._posbridge_payment_amounts()["amount"]

    def _posbridge_link_payable_state(self):
        return self.state in ("draft", "sent", "sale")

    def _posbridge_link_tx_values(self):
        return {"sale_order_ids": [(6, 0, self.ids)]}

    def _posbridge_link_reference(self, provider):
        return self.env["payment.transaction"]._compute_reference(provider.code, sale_order_ids=[(6, 0, self.ids)])

    def _posbridge_link_partner(self):
        return self.partner_invoice_id

    def _posbridge_link_open_terminal_request(self):
        return self.posbridge_pending_transaction_id

    def _posbridge_amount_left(self):
        self.ensure_one()
        return self.amount_total - self.amount_paid

    def _posbridge_check_payable(self):
        """:raise UserError: the order cannot be paid on a terminal now."""
        self.ensure_one()
        if self.state == "cancel":
            raise UserError(_("%s is cancelled.", self.name))
        if self.currency_id.compare_amounts(self._posbridge_amount_left(), 0) <= 0:
            raise UserError(_("Nothing is left to pay on %s.", self.name))

    def _posbridge_lock(self, terminal):
        """Take the order and the terminal for this request: a double click, two users or two
        workers get one vendor request.

        :raise UserError: another request for this order or terminal is being sent right now.
        """
        lock_rows(_("Another request for %(order)s or terminal %(terminal)s is being sent; wait a "
                    "moment, then look at the order again.", order=self.name, terminal=terminal.name),
                  self, terminal)

    def _posbridge_request_payment(self, terminal, amount, customer):
        """Create the pending transaction for `amount` and send it to `terminal`.

        :param terminal: a `posbridge.terminal` of the order's company.
        :param float amount: at most what is left to pay.
        :param dict customer: ``name``, ``phone``, ``email`` as the vendor takes them.
        :return: the transaction.
        :raise UserError: wrong currency, nothing or less left, terminal busy, a request already
            open, or the vendor refused.
        """
        self.ensure_one()
        order = self.sudo()
        terminal = terminal.sudo()
        provider = terminal.provider_id
        order._posbridge_check_payable()
        if terminal.company_id != order.company_id:
            raise UserError(_("Terminal %(terminal)s belongs to %(company)s, not to the order's company.",
                              terminal=terminal.name, company=terminal.company_id.name))
        provider._posbridge_check_currency(order.currency_id)
        order._posbridge_lock(terminal)
        open_tx = order.posbridge_pending_transaction_id
        if open_tx:
            raise UserError(_("%(order)s is already waiting for %(amount)s on terminal %(terminal)s: "
                              "check its status or cancel it first.", order=order.name,
                              amount=format_amount(self.env, open_tx.amount, open_tx.currency_id),
                              terminal=open_tx.posbridge_terminal_id.name))
        if order.posbridge_link_transaction_id:
            raise UserError(_("%(order)s has an open Hesabe link (%(summary)s): cancel it first.", order=order.name,
                              summary=order.posbridge_link_transaction_id._posbridge_link_summary()))
        busy_message = terminal._posbridge_busy_message()
        if busy_message:
            raise UserError(busy_message)
        left = order._posbridge_amount_left()
        if order.currency_id.compare_amounts(amount, 0) <= 0:
            raise UserError(_("The amount to pay must be positive."))
        if order.currency_id.compare_amounts(amount, left) > 0:
            raise UserError(_("At most %s is left to pay on this order.", format_amount(self.env, left, order.currency_id)))
        if terminal._posbridge_ping() == "not_listening":
            raise UserError(provider._posbridge_not_listening_message())
        tx = self.env["payment.transaction"].sudo().create({
            "provider_id": provider.id,
            "payment_method_id": self.env.ref("posbridge.payment_method_card_terminal").id,
            "reference": self.env["payment.transaction"]._compute_reference(
                provider.code, sale_order_ids=[(6, 0, order.ids)]),
            "amount": amount,
            "currency_id": order.currency_id.id,
            "partner_id": order.partner_invoice_id.id,
            "operation": "offline",
            "sale_order_ids": [(6, 0, order.ids)],
            "posbridge_terminal_id": terminal.id,
            "posbridge_idempotency_key": str(uuid.uuid4()),
            "posbridge_customer_name": customer.get("name"),
            "posbridge_customer_phone": customer.get("phone") or False,
            "posbridge_customer_email": customer.get("email") or False,
            "posbridge_sent_date": fields.Datetime.now(),
        })
        tx._set_pending()
        tx._posbridge_toggle_cron()
        # Durable before the vendor hears of it: whatever fails later, a pending transaction
        # with its reference and sent date is there to reconcile (and to time out).
        commit_unless_testing(self.env)
        tx._posbridge_send()
        commit_unless_testing(self.env)
        tx._posbridge_notify()
        return tx
