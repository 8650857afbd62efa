"""Refunds from the posted payment, through Odoo's refund wizard and refund transactions:
Helcim credit cards through the Payment API, debit cards on the device, Hesabe through the
Merchant API; partial refunds, never more than was paid. And the manager's Mark paid."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import PosbridgeCase


@tagged("post_install", "-at_install")
class TestRefunds(PosbridgeCase):
    def _paid_helcim_order(self, card_type, price=40.0, close_batch=True):
        order = self._order("CAD", price=price)
        tx = self._push(order, self.terminal_dy6l)
        self._helcim_pay(tx, card_type=card_type)
        self.assertEqual(tx.state, "done")
        if close_batch:
            self.sandbox.helcim_close_batch()  # Helcim refunds settled purchases only
        return order, tx

    def _refund(self, tx, amount):
        """The Refund button of the posted payment, then its wizard."""
        action = tx.payment_id.action_refund_wizard()
        wizard = self.env[action["res_model"]].with_context(
            active_model="account.payment", active_id=tx.payment_id.id).create({"amount_to_refund": amount})
        # Helcim also announces a Payment API refund by webhook; it would reach Odoo's HTTP
        # thread while this thread still uses the shared test cursor, so it goes nowhere here.
        webhook_url = self.sandbox.helcim_webhook_url
        self.sandbox.helcim_webhook_url = None
        try:
            wizard.action_refund()
        finally:
            self.sandbox.helcim_webhook_url = webhook_url
        return tx.child_transaction_ids.filtered(lambda t: t.operation == "refund").sorted("id")[-1:]

    def test_helcim_credit_refund_through_payment_api(self):
        order, tx = self._paid_helcim_order("VI")
        refund = self._refund(tx, 15.0)
        self.assertEqual(refund.state, "done", refund.state_message)
        self.assertAlmostEqual(refund.amount, -15.0)
        self.assertTrue(refund.provider_reference, "Helcim's refund transaction id")
        self.assertTrue(refund.payment_id, "the outbound account.payment")
        rest = self._refund(tx, 25.0)
        self.assertEqual(rest.state, "done")
        with self.assertRaises(UserError):
            tx.action_refund(amount_to_refund=0.01)
        self.assertEqual(self.sandbox.stats()["refunds_started"], 0, "no device was asked")

    def test_helcim_same_day_refund_of_all_of_it_is_a_reversal(self):
        order, tx = self._paid_helcim_order("MC", price=18.0, close_batch=False)
        with self.assertRaisesRegex(UserError, "open batch"):
            self._refund(tx, 5.0)  # a part: only once the batch has settled, in Helcim's words
        before = self.sandbox.stats()
        refund = self._refund(tx, 18.0)
        self.assertEqual(refund.state, "done", refund.state_message)
        self.assertTrue(refund.payment_id, "the outbound account.payment")
        after = self.sandbox.stats()
        self.assertEqual((after["payment_reversals"], after["payment_refunds"]),
                         (before["payment_reversals"] + 1, before["payment_refunds"]))
        vendor = self.helcim._posbridge_client().find_card_transactions(tx.reference)
        self.assertEqual([t.type for t in vendor], ["purchase", "reverse"])
        self.assertEqual(refund.provider_reference, str(vendor[1].transaction_id))

    def test_helcim_debit_refund_on_device(self):
        order, tx = self._paid_helcim_order("IN")
        started = self.sandbox.stats()["refunds_started"]
        refund = self._refund(tx, 10.0)
        self.assertEqual(refund.state, "pending", "the customer taps the original card")
        self.assertEqual(self.sandbox.stats()["refunds_started"], started + 1)
        self._helcim_pay(refund, card_type="IN")
        self.assertEqual(refund.state, "done", refund.state_message)
        self.assertTrue(refund.payment_id)

    def test_refund_never_more_than_paid(self):
        order, tx = self._paid_helcim_order("VI", price=20.0)
        with self.assertRaisesRegex(UserError, "at most"):
            tx.action_refund(amount_to_refund=20.01)
        self._refund(tx, 20.0)
        with self.assertRaisesRegex(UserError, "at most"):
            tx.action_refund(amount_to_refund=1.0)

    def test_hesabe_refund_through_merchant_api(self):
        order = self._order("KWD", price=12.5)
        tx = self._push(order, self.terminal_a99)
        self._hesabe_pay(tx)
        refund = self._refund(tx, 2.5)
        self.assertEqual(refund.state, "pending", "Hesabe reviews refund requests")
        self.assertTrue(refund.provider_reference, "Hesabe's refund request id")
        vendor_refund = self.hesabe._posbridge_client().refund(refund.provider_reference)
        self.assertEqual(vendor_refund.amount, self.D("2.500"))
        self.sandbox.hesabe_set_refund_status(int(refund.provider_reference), 1)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(refund.state, "done")
        self.assertTrue(refund.payment_id, "the outbound account.payment")
        with self.assertRaisesRegex(UserError, "at most"):
            tx.action_refund(amount_to_refund=10.001)
        rest = self._refund(tx, 10.0)
        self.sandbox.hesabe_set_refund_status(int(rest.provider_reference), 2)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(rest.state, "error", "rejected by Hesabe")

    def test_manager_marks_paid_then_vendor_confirms(self):
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        wizard_action = order.with_user(self.manager).action_posbridge_mark_paid()
        with self.assertRaises(AccessError):
            self.env["posbridge.force.done.wizard"].with_user(self.salesman).create(
                {"transaction_id": tx.id, "reason": "I say so"})
        wizard = self.env["posbridge.force.done.wizard"].with_user(self.manager).with_context(
            wizard_action["context"]).create({"reason": "Receipt printed on A99, approval 123456"})
        wizard.action_confirm()
        self.assertEqual(tx.state, "done")
        self.assertPaidAndConfirmed(order, 12.5)
        self.assertTrue(any("approval 123456" in body for body in order.message_ids.mapped("body")))
        # The vendor could not be reached; now it can: the next status check still reconciles.
        self.sandbox.hesabe_pay(tx.provider_reference)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertFalse(tx.posbridge_watch_until, "the vendor's record is seen")
        self.assertTrue(any("confirms" in body for body in order.message_ids.mapped("body")))
        self.assertEqual(len(tx.payment_id), 1, "recorded once")

    def test_helcim_debit_refund_webhook_lost_then_found(self):
        order, tx = self._paid_helcim_order("IN")
        refund = self._refund(tx, 10.0)
        webhook_url = self.sandbox.helcim_webhook_url
        self.sandbox.helcim_webhook_url = None  # the refund's webhook never arrives
        try:
            self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="IN")
        finally:
            self.sandbox.helcim_webhook_url = webhook_url
        self.assertEqual(refund.state, "pending")
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(refund.state, "done", "found under the purchase's invoice number")
        self.assertTrue(refund.provider_reference)
