"""Odoo 19.0: how a vendor's result and a refund enter Odoo's payment pipeline. The same
behaviour as the other series' file of this name; only the pipeline's hooks differ
(odoo_addon/SERIES.md)."""

from odoo import models

from .. import const


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _posbridge_process(self, data):
        self._process(self.provider_code, data)

    def _extract_amount_data(self, payment_data):
        """Override of `payment`: `_posbridge_apply_result` checks amount and currency itself,
        and says in the transaction what the vendor reported (like `payment_demo`, it opts out)."""
        if self.provider_code not in const.PROVIDER_CODES:
            return super()._extract_amount_data(payment_data)
        return None

    def _apply_updates(self, payment_data):
        """Override of `payment`: a terminal transaction takes the vendor's result."""
        if self.provider_code not in const.PROVIDER_CODES:
            return super()._apply_updates(payment_data)
        return self._posbridge_apply_result(payment_data)

    def _refund(self, amount_to_refund=None):
        """Override of `payment` (on the payment refunded): at most what is left.

        :raise UserError: more than what is left to refund.
        """
        if self.provider_code in const.PROVIDER_CODES:
            amount_to_refund = self._posbridge_refund_amount(amount_to_refund)
        return super()._refund(amount_to_refund=amount_to_refund)

    def _send_refund_request(self):
        """Override of `payment` (on the refund transaction): through the vendor.

        :raise UserError: the vendor refused.
        """
        if self.provider_code not in const.PROVIDER_CODES:
            return super()._send_refund_request()
        return self._posbridge_send_refund()
