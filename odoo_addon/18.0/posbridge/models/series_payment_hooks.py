"""Odoo 18.0: how a vendor's result and a refund enter Odoo's payment pipeline. The same
behaviour as the other series' file of this name; only the pipeline's hooks differ
(odoo_addon/SERIES.md)."""

from odoo import models

from .. import const


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _posbridge_process(self, data):
        self._process_notification_data(data)

    def _process_notification_data(self, notification_data):
        """Override of `payment`: a terminal transaction takes the vendor's result."""
        super()._process_notification_data(notification_data)
        if self.provider_code in const.PROVIDER_CODES:
            self._posbridge_apply_result(notification_data)

    def _send_refund_request(self, amount_to_refund=None):
        """Override of `payment` (on the payment refunded): at most what is left, through the
        vendor.

        :return: the refund transaction.
        :raise UserError: more than what is left to refund, or the vendor refused.
        """
        if self.provider_code not in const.PROVIDER_CODES:
            return super()._send_refund_request(amount_to_refund=amount_to_refund)
        amount = self._posbridge_refund_amount(amount_to_refund)
        refund_tx = super()._send_refund_request(amount_to_refund=amount)
        refund_tx._posbridge_send_refund()
        return refund_tx
