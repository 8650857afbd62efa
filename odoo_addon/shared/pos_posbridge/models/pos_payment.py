from odoo import api, fields, models


class PosPayment(models.Model):
    _inherit = "pos.payment"

    posbridge_reference = fields.Char(
        string="Terminal request", readonly=True, index="btree_not_null",
        help="The reference of the Hesabe or Helcim request that paid this line.")
    posbridge_attempt = fields.Integer(
        string="Terminal attempt", readonly=True,
        help="How many times the line was sent to the terminal: with the line, the key that "
        "makes sending idempotent.")

    @api.model_create_multi
    def create(self, vals_list):
        """Link each synced terminal payment to its request (which then needs no review)."""
        payments = super().create(vals_list)
        for payment in payments.filtered("posbridge_reference"):
            request = self.env["posbridge.pos.request"].sudo().search(
                [("name", "=", payment.posbridge_reference)], limit=1)
            if request and not request.pos_payment_id:
                request.pos_payment_id = payment
        return payments
