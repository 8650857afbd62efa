"""Refunds from the Point of Sale: each through its vendor's route, never more than was paid on
that payment, never without the payment it refunds."""

from odoo.tests import tagged

from .common import PosbridgePosCase


@tagged("post_install", "-at_install")
class TestPosRefunds(PosbridgePosCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for register in (cls.register, cls.kwd_register):
            cls.env["pos.session"].create({"config_id": register.id, "user_id": cls.cashier.id})

    def _helcim_paid(self, amount, card_type, close_batch=True):
        answer = self._send(self.helcim_method, self.register, amount)
        self._customer_taps(card_type=card_type)
        request = self._request(answer)
        self.assertEqual((request.state, request.card_type), ("done", card_type))
        if close_batch:
            self.sandbox.helcim_close_batch()  # Helcim refunds settled purchases
        return request

    def _refund(self, method, register, amount, original):
        known, before = self._webhook_ids(), self._given_back()
        answer = self._send(method, register, -amount, refund_of=original.name)
        given_back = self._given_back() - before
        if given_back:
            # Helcim sends a webhook for each refund or reversal of the Payment API: Odoo's HTTP
            # thread answers it on the test's cursor, so wait for that before reading on
            self._wait_for_webhook(known, count=given_back)
        return answer

    def _given_back(self):
        stats = self.sandbox.stats()
        return stats["payment_refunds"] + stats["payment_reversals"]

    def test_helcim_debit_refund_on_the_device(self):
        paid = self._helcim_paid(20.0, "IN")
        answer = self._refund(self.helcim_method, self.register, 5.0, paid)
        self.assertEqual((answer["state"], answer["kind"]), ("pending", "refund"), answer)
        refund = self._request(answer)
        self.assertEqual(refund.original_id, paid)
        self._customer_taps(card_type="IN")  # the customer taps the original card
        self.assertEqual(refund.state, "done", "Helcim's refund webhook settled it")
        self.assertTrue(refund.vendor_reference)
        self.assertAlmostEqual(paid._refundable(), 15.0)

    def test_helcim_credit_refund_through_the_payment_api(self):
        paid = self._helcim_paid(30.0, "VI")
        before = self.sandbox.stats()
        started = before["purchases_started"]
        answer = self._refund(self.helcim_method, self.register, 30.0, paid)
        self.assertEqual(answer["state"], "done", answer)
        after = self.sandbox.stats()
        self.assertEqual((after["payment_reversals"], after["payment_refunds"]),
                         (before["payment_reversals"], before["payment_refunds"] + 1),
                         "the batch has settled: Helcim refused the reversal (moving nothing), then refunded")
        self.assertIn("Refund of " + paid.name, answer["receipt"])
        self.assertEqual(self.sandbox.stats()["purchases_started"], started, "nothing on the device")
        self.assertEqual(paid._refundable(), 0.0)
        again = self._refund(self.helcim_method, self.register, 0.01, paid)
        self.assertEqual(again["state"], "error")
        self.assertIn("left to refund", again["message"])

    def test_helcim_same_day_refund_reverses_all_of_it(self):
        paid = self._helcim_paid(8.0, "VI", close_batch=False)  # the day's batch is still open
        part = self._refund(self.helcim_method, self.register, 3.0, paid)
        self.assertEqual(part["state"], "error", "Helcim refunds part of a payment once its batch settled")
        self.assertIn("open batch", part["message"], "in Helcim's words")
        self.assertEqual(paid._refundable(), 8.0, "a refused refund holds nothing")
        before = self.sandbox.stats()
        whole = self._refund(self.helcim_method, self.register, 8.0, paid)
        self.assertEqual(whole["state"], "done", whole)
        after = self.sandbox.stats()
        self.assertEqual((after["payment_reversals"], after["payment_refunds"]),
                         (before["payment_reversals"] + 1, before["payment_refunds"]), "reversed, not refunded")
        vendor = self.helcim._posbridge_client().find_card_transactions(paid.name)
        self.assertEqual([(t.type, t.amount) for t in vendor], [("purchase", self.D("8.00")), ("reverse", self.D("8.00"))])
        self.assertEqual(self._request(whole).vendor_reference, str(vendor[1].transaction_id))
        self.assertEqual(paid._refundable(), 0.0)

    def test_never_more_than_was_paid(self):
        paid = self._helcim_paid(10.0, "IN")
        answer = self._refund(self.helcim_method, self.register, 10.01, paid)
        self.assertEqual(answer["state"], "error")
        self.assertIn("At most 10.0", answer["message"])
        self.assertFalse(self.env["posbridge.pos.request"].search([("kind", "=", "refund")]), "nothing sent")
        first = self._refund(self.helcim_method, self.register, 6.0, paid)
        self.assertEqual(first["state"], "pending")
        self.sandbox.helcim_complete("DY6L", outcome="timeout")  # the device lets it go; still open in Odoo
        second = self._refund(self.helcim_method, self.register, 5.0, paid)
        self.assertEqual(second["state"], "error", "a refund under way counts against what is left")

    def test_refund_without_the_payment_it_refunds_is_refused(self):
        answer = self._send(self.helcim_method, self.register, -5.0)
        self.assertEqual(answer["state"], "error")
        self.assertIn("no card payment", answer["message"])
        declined = self._send(self.helcim_method, self.register, 5.0)
        self._customer_taps(outcome="declined")
        answer = self._send(self.helcim_method, self.register, -5.0, refund_of=declined["reference"])
        self.assertEqual(answer["state"], "error", "a declined payment refunds nothing")

    def test_hesabe_refund_requested_then_approved_or_rejected(self):
        answer = self._send(self.hesabe_method, self.kwd_register, 12.5)
        paid = self._request(answer)
        self.sandbox.hesabe_pay(paid.vendor_reference)
        self._seconds_pass(paid, 3)
        self.assertEqual(self._status(self.hesabe_method, self.kwd_register, answer)["state"], "done")
        first = self._refund(self.hesabe_method, self.kwd_register, 5.0, paid)
        self.assertEqual(first["state"], "done", "the POS line is settled while Hesabe decides")
        self.assertIn("Hesabe approves it", first["receipt"])
        refund = self._request(first)
        self.assertEqual(refund.state, "requested")
        self.sandbox.hesabe_set_refund_status(int(refund.vendor_invoice_id), 1)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(refund.state, "done", "Hesabe approved it")
        rest = self._request(self._refund(self.hesabe_method, self.kwd_register, 7.5, paid))
        self.assertEqual(rest.state, "requested")
        self.sandbox.hesabe_set_refund_status(int(rest.vendor_invoice_id), 2)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(rest.state, "error", "rejected by Hesabe")
        self.assertTrue(rest.to_review, "the manager sees the rejected refund")
        self.assertIn("rejected", rest.message)
