from odoo import fields, models


class PosbridgeForceDoneWizard(models.TransientModel):
    _name = "posbridge.force.done.wizard"
    _description = "Mark a terminal payment as paid"

    transaction_id = fields.Many2one("payment.transaction", required=True, readonly=True, ondelete="cascade")
    reason = fields.Text(
        required=True,
        help="Why you know it is paid (the receipt on the terminal, its approval code...). Kept in "
        "the order's chatter; the vendor's record is still checked afterwards.",
    )

    def action_confirm(self):
        self.ensure_one()
        self.transaction_id.sudo()._posbridge_mark_paid(self.reason.strip())
        return {"type": "ir.actions.act_window_close"}
