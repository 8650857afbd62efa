import posbridge

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const


class PosbridgePayWizard(models.TransientModel):
    _name = "posbridge.pay.wizard"
    _description = "Pay a sale order on a card terminal"

    sale_order_id = fields.Many2one("sale.order", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="sale_order_id.company_id")
    currency_id = fields.Many2one(related="sale_order_id.currency_id")
    resend_transaction_id = fields.Many2one(
        "payment.transaction", string="Resend", readonly=True,
        help="The pending Hesabe POS invoice to push again.",
    )
    terminal_id = fields.Many2one(
        "posbridge.terminal", string="Terminal", required=True,
        domain="[('id', 'in', candidate_terminal_ids)]",
    )
    candidate_terminal_ids = fields.Many2many(
        "posbridge.terminal", string="Terminals offered", compute="_compute_candidate_terminal_ids")
    amount = fields.Monetary(currency_field="currency_id", required=True)
    amount_max = fields.Monetary(string="Left to pay", currency_field="currency_id", readonly=True)
    amount_paid = fields.Monetary(string="Already paid", currency_field="currency_id", readonly=True)
    customer_name = fields.Char(required=True)
    customer_phone = fields.Char()
    customer_email = fields.Char()
    busy_message = fields.Char(string="Terminal busy", compute="_compute_busy_message")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        order = self.env["sale.order"].browse(
            self.env.context.get("active_id") or values.get("sale_order_id")
        ).exists()
        if not order:
            return values
        partner = order.partner_id
        link_values = order._posbridge_payment_amounts()
        resend = self.env["payment.transaction"].browse(values.get("resend_transaction_id")).sudo()
        values.update({
            "sale_order_id": order.id,
            "amount": abs(resend.amount) if resend else link_values["amount"],
            "amount_max": link_values["amount_max"],
            "amount_paid": link_values["amount_paid"],
            "customer_name": resend.posbridge_customer_name or partner.name,
            "customer_phone": resend.posbridge_customer_phone or order._posbridge_customer_phone(),
            "customer_email": resend.posbridge_customer_email or partner.email or False,
        })
        terminal = resend.posbridge_terminal_id or self.env["posbridge.terminal"]._posbridge_for_order(order)
        if terminal:
            values["terminal_id"] = terminal.id
        return values

    @api.depends("sale_order_id", "resend_transaction_id")
    def _compute_candidate_terminal_ids(self):
        for wizard in self:
            candidates = self.env["posbridge.terminal"]._posbridge_candidates(wizard.sale_order_id)
            if wizard.resend_transaction_id:
                candidates = candidates.filtered(lambda t: t.provider_id == wizard.resend_transaction_id.provider_id)
            wizard.candidate_terminal_ids = candidates

    @api.depends("terminal_id")
    def _compute_busy_message(self):
        for wizard in self:
            terminal = wizard.terminal_id
            resending_here = wizard.resend_transaction_id.posbridge_terminal_id == terminal
            wizard.busy_message = bool(terminal) and not resending_here and terminal._posbridge_busy_message()

    def _customer(self):
        return {
            "name": (self.customer_name or "").strip(),
            "phone": (self.customer_phone or "").strip() or None,
            "email": (self.customer_email or "").strip() or None,
        }

    def _check_customer(self):
        """Validate the customer's details as the vendor takes them, before anything is created:
        the package builds the request without sending it."""
        customer = self._customer()
        if self.terminal_id.provider_code != const.HESABE:
            return customer
        client = self.terminal_id.provider_id.sudo()._posbridge_client()
        try:
            client.wire("create_pos_invoice", terminal_id=self.terminal_id.vendor_ref, amount="1",
                        customer_name=customer["name"], customer_phone=customer["phone"],
                        customer_email=customer["email"])
        except posbridge.ValidationError as error:
            raise UserError(_("Check the customer's details: %s", error)) from None
        return customer

    def action_send(self):
        """Send the amount to the terminal (or push the POS invoice again) and go back to the order."""
        self.ensure_one()
        order = self.sale_order_id
        if self.resend_transaction_id:
            self.resend_transaction_id.sudo()._posbridge_resend(self.terminal_id.sudo())
        else:
            customer = self._check_customer()
            order._posbridge_request_payment(self.terminal_id, self.amount, customer)
        return {"type": "ir.actions.act_window_close"}
