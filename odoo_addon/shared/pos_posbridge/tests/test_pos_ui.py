"""The Point of Sale in headless Chromium: a cashier opens the register, sells, pays on the
terminal; the customer pays at the embedded sandbox; the receipt shows the payment. And a
decline, then a retry that is paid."""

import threading
import time
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.bus.websocket import WebsocketConnectionHandler

from .common import PosbridgePosCase


@tagged("post_install", "-at_install")
class TestPosUi(PosbridgePosCase):
    def _start_pos_tour(self, register, tour):
        with patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True):
            self.start_tour(f"/pos/ui?config_id={register.id}", tour, login="admin", timeout=180)

    def _customer_at_the_terminal(self):
        """A thread playing the customer at DY6L: taps the card once a purchase has reached the
        device, then tells the register over its bus, as the webhook's commit does in production.
        Returns the event that stops it and the thread."""
        channel = self._register_channel(self.register)
        started = self.sandbox.stats()["purchases_started"]
        known = self._webhook_ids()
        stop = threading.Event()

        def customer():
            # taps once the purchase has reached the device
            while not stop.is_set() and self.sandbox.stats()["purchases_started"] == started:
                time.sleep(0.05)
            if stop.is_set():
                return
            time.sleep(0.5)  # the cashier sees "Waiting on terminal DY6L" first
            self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="VI")
            while not stop.is_set():
                if any(d["webhook_id"] not in known and d.get("status") == 200 for d in self._deliveries()):
                    self._send_bus_notify(channel)  # what the webhook's commit sends in production
                    return
                time.sleep(0.05)

        thread = threading.Thread(target=customer, daemon=True)
        thread.start()
        self.addCleanup(stop.set)
        return stop, thread

    def test_tour_helcim_pay(self):
        """Helcim: the signed webhook reaches Odoo, the register's bus tells the POS, the line is
        done, the order validates itself and the receipt shows the card and the references."""
        stop, thread = self._customer_at_the_terminal()
        self._start_pos_tour(self.register, "posbridge_pos_helcim_pay")
        stop.set()
        thread.join(5)
        request = self.env["posbridge.pos.request"].search([("config_id", "=", self.register.id)])
        self.assertEqual(request.mapped("state"), ["done"])
        self.assertEqual(request.card_type, "VI")
        self.assertTrue(request.pos_payment_id, "the synced order's payment is linked to its request")
        self.assertEqual(request.pos_payment_id.posbridge_reference, request.name)
        number = request.pos_payment_id.pos_order_id.pos_reference.split()[-1]  # 18.0: "Order 00007-001-0001"
        self.assertEqual(request.name, f"{number}-1",
                         "the vendor's invoice number: the order's receipt number, its first request")
        self.assertEqual(request.pos_payment_id.amount, request.amount)
        self.assertEqual(request.pos_payment_id.pos_order_id.amount_total, request.amount, "paid in full, on the terminal")
        self.assertFalse(request.to_review)

    def test_tour_helcim_refund(self):
        """The order paid on Helcim is refunded from the ticket screen with the same method: the
        same day, all of it goes back by a reversal through the Payment API, with no device; the
        refund order's payment is linked to its request and nothing is left to refund."""
        before = self.sandbox.stats()
        known = self._webhook_ids()
        stop, thread = self._customer_at_the_terminal()
        self._start_pos_tour(self.register, "posbridge_pos_helcim_refund")
        stop.set()
        thread.join(5)
        # the purchase's webhook and the reversal's, answered before the test reads on (Odoo's
        # HTTP thread shares the test's cursor)
        self._wait_for_webhook(known, count=2)
        paid, refund = self.env["posbridge.pos.request"].search([("config_id", "=", self.register.id)], order="id")
        self.assertEqual([(r.kind, r.state) for r in (paid, refund)], [("payment", "done"), ("refund", "done")])
        self.assertEqual(refund.original_id, paid, "the refund order's line knew the payment it refunds")
        self.assertEqual(abs(refund.amount), paid.amount)
        after = self.sandbox.stats()
        self.assertEqual(after["payment_reversals"], before["payment_reversals"] + 1, "reversed, the same day")
        self.assertEqual(after["purchases_started"], before["purchases_started"] + 1, "the refund needed no device")
        order, refund_order = paid.pos_payment_id.pos_order_id, refund.pos_payment_id.pos_order_id
        self.assertTrue(refund_order and refund_order != order, "the refund order's payment is linked to its request")
        self.assertEqual(refund.pos_payment_id.amount, -paid.pos_payment_id.amount)
        self.assertEqual(refund_order.lines.refunded_orderline_id.order_id, order)
        self.assertEqual(refund.name, f"{refund_order.pos_reference.split()[-1]}-1", "the refund order's number")
        self.assertEqual(paid._refundable(), 0.0)
        self.assertFalse((paid | refund).filtered("to_review"))

    def test_tour_hesabe_decline_then_retry(self):
        """Hesabe: the customer declines on the device; the cashier reads why, moves to another
        terminal and retries there; the second attempt is a new request, paid; one POS payment,
        for the paid one."""
        self._start_pos_tour(self.kwd_register, "posbridge_pos_decline_retry")
        requests = self.env["posbridge.pos.request"].search([("config_id", "=", self.kwd_register.id)], order="id")
        self.assertEqual(requests.mapped("state"), ["declined", "done"])
        self.assertEqual(requests.mapped("attempt"), [1, 2])
        self.assertEqual(len(set(requests.mapped("line_uuid"))), 1, "the same payment line, retried")
        self.assertEqual(requests.mapped("terminal_id.name"), ["A99", "terminal1323"], "the cashier's choice")
        payment = requests[1].pos_payment_id
        self.assertTrue(payment)
        self.assertFalse(requests[0].pos_payment_id)
        self.assertEqual(payment.pos_order_id.amount_paid, payment.amount)
        self.assertEqual(payment.amount, requests[1].amount)
        number = payment.pos_order_id.pos_reference.split()[-1]
        self.assertEqual(requests.mapped("name"), [f"{number}-1", f"{number}-2"], "the order's number, each attempt's")
