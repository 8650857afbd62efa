from odoo import models


class AccountMove(models.Model):
    """A posted customer invoice in KWD can be paid by a Hesabe link (posbridge.link.document)."""

    _name = "account.move"
    _inherit = ["account.move", "posbridge.link.document"]

    def _posbridge_link_left(self):
        return self.amount_residual

    def _posbridge_link_payable_state(self):
        return (self.move_type == "out_invoice" and self.state == "posted"
                and self.payment_state not in ("paid", "in_payment", "reversed"))

    def _posbridge_link_tx_values(self):
        return {"invoice_ids": [(6, 0, self.ids)]}

    def _posbridge_link_reference(self, provider):
        return self.env["payment.transaction"]._compute_reference(provider.code, invoice_ids=[(6, 0, self.ids)])

    def _posbridge_link_description(self):
        return self.name
