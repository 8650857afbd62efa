from odoo import api, models

from .posbridge_pos_request import OPEN_STATES


class PaymentTransaction(models.Model):
    """Where the posbridge addon's webhook route and poller find requests: the Point of Sale's
    requests too (one Helcim webhook URL per account serves sale orders and registers)."""

    _inherit = "payment.transaction"

    @api.model
    def _posbridge_request_by_reference(self, provider, reference):
        found = super()._posbridge_request_by_reference(provider, reference)
        if found or not reference:
            return found
        return self.env["posbridge.pos.request"].sudo().search(
            [("name", "=", reference), ("provider_id", "=", provider.id)], limit=1)

    @api.model
    def _posbridge_refund_for(self, provider, card_transaction):
        """Override: a refund card transaction may settle a register's refund on the device."""
        found = super()._posbridge_refund_for(provider, card_transaction)
        if found:
            return found
        domain = [("provider_id", "=", provider.id), ("kind", "=", "refund"), ("state", "in", OPEN_STATES)]
        if card_transaction.invoice_number:
            domain.append(("original_id.name", "=", card_transaction.invoice_number))
        pending = self.env["posbridge.pos.request"].sudo().search(domain, order="id")
        return pending.filtered(
            lambda r: r._amount_matches(card_transaction.amount, card_transaction.currency))[:1]

    @api.model
    def _posbridge_cancelled_on(self, provider, event):
        found = super()._posbridge_cancelled_on(provider, event)
        if found:
            return found
        Request = self.env["posbridge.pos.request"].sudo()
        if event.invoice_number:
            return Request.search([("name", "=", event.invoice_number), ("provider_id", "=", provider.id)], limit=1)
        return Request.search([("provider_id", "=", provider.id), ("state", "in", OPEN_STATES),
                               ("terminal_id.vendor_ref", "=", (event.device_code or "").upper())], limit=1)

    @api.model
    def _posbridge_cron_poll(self):
        """Override: the registers' requests too, whose tab may be closed."""
        self.env["posbridge.pos.request"].sudo()._posbridge_cron_poll()
        return super()._posbridge_cron_poll()

    @api.model
    def _posbridge_has_watched(self):
        return super()._posbridge_has_watched() or bool(
            self.env["posbridge.pos.request"].sudo().search_count(
                self.env["posbridge.pos.request"]._watch_domain(), limit=1))
