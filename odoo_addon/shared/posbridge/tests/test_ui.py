"""The browser tour, two concurrent requests over real HTTP, and the mails a pending request must
not send."""

import queue
import threading
import time

from unittest.mock import patch

from odoo.http import request as odoo_request
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.bus.websocket import WebsocketConnectionHandler

from odoo.addons.posbridge import const

from .common import PosbridgeCase


@tagged("post_install", "-at_install")
class TestUi(PosbridgeCase):
    def test_tour_pay_on_terminal(self):
        """Open an order, press Pay on terminal, send; the customer pays at the sandbox; the open
        form shows the order confirmed, without a reload (Odoo's bus). The payment's notification
        reaches a form whose record is still loading (issue 13): the customer pays only once the
        form that Check status rebuilds has asked for its record, and the tour holds that
        answer in the browser until the notification has arrived."""
        admin = self.env.ref("base.user_admin")
        self.terminal_dy6l.user_ids = admin
        order = self._order("CAD", price=42.0)
        channel = self._bus_channel(admin)
        # Test cursors drop post-commit hooks, among them the bus's NOTIFY: the customer thread
        # sends it, as the webhook's commit does in production.
        known = self._webhook_ids()
        lookups = "GET /v2/card-transactions"
        checked = self.sandbox.stats()["by_path"].get(lookups, 0)
        order_reads = []  # each read of the order's form, as Odoo's HTTP thread serves it
        stop = threading.Event()
        SaleOrder = type(self.env["sale.order"])
        web_read = SaleOrder.web_read

        def counting_web_read(records, *args, **kwargs):
            if order.id in records.ids:
                order_reads.append(self.sandbox.stats()["by_path"].get(lookups, 0))
            return web_read(records, *args, **kwargs)

        def customer():
            # Taps the card once Check status has asked the vendor (its lookup reached the
            # sandbox) and the form it rebuilds has asked for the order afterwards.
            while not stop.is_set() and not any(seen > checked for seen in order_reads):
                time.sleep(0.05)
            if not stop.is_set():
                self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="VI")
            while not stop.is_set():
                if any(d["webhook_id"] not in known and d.get("status") == 200 for d in self._deliveries()):
                    self._send_bus_notify(channel)
                    return
                time.sleep(0.1)

        thread = threading.Thread(target=customer, daemon=True)
        thread.start()
        self.addCleanup(stop.set)
        with patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True), \
                patch.object(SaleOrder, "web_read", counting_web_read):
            self.start_tour(f"/odoo/sales/{order.id}", "posbridge_pay_on_terminal", login="admin", timeout=120)
        stop.set()
        thread.join(5)
        self.assertPaidAndConfirmed(order, 42.0)

    def test_tour_live_refresh_keeps_edits(self):
        """The terminal's result reaches a form with unsaved edits: nothing is thrown away, the
        salesperson is told, and the result shows once the form is saved. Updates for another
        order, twice in a row, or for a form that was closed change nothing and break nothing."""
        admin = self.env.ref("base.user_admin")
        self.terminal_dy6l.user_ids = admin
        order = self._order("CAD", price=42.0, user=admin)  # pushed by admin, who is told
        other = self._order("CAD", price=10.0, user=admin)
        self._push(order, self.terminal_dy6l)
        channel = self._bus_channel(admin)
        known = self._webhook_ids()
        signals = queue.Queue()
        stop = threading.Event()

        signalled = []  # what the tour has signalled so far
        reads_before_paying = set()  # the form's reads of the order (its RPCs) until the customer pays
        SaleOrder = type(self.env["sale.order"])
        web_read = SaleOrder.web_read

        def counting_web_read(records, *args, **kwargs):
            # one per RPC of the form (a read also reads the order again for a relational field),
            # none for the server's own (a page preload, the chatter)
            rpc = odoo_request and odoo_request.httprequest.path.startswith("/web/dataset/call_kw/sale.order/web_read")
            if rpc and order.id in records.ids and "pay" not in signalled:
                reads_before_paying.add(id(odoo_request.httprequest))
            return web_read(records, *args, **kwargs)

        def posbridge_tour_signal(records, what, orders):
            """Called by the tour (Odoo's HTTP thread): "pay" on the device, or "notify" the
            orders named ("this" or "other") as a webhook's commit would."""
            signalled.append(what)
            for name in orders:
                records.env["bus.bus"]._sendone(admin.partner_id, const.BUS_NOTIFICATION, {
                    "sale_order_ids": (order if name == "this" else other).ids, "state": "done"})
            signals.put(what)
            return True

        def customer():
            # Acts outside Odoo's HTTP thread, which owns the test cursor while it serves the
            # tour and the sandbox's webhook.
            while not stop.is_set():
                try:
                    what = signals.get(timeout=0.1)
                except queue.Empty:
                    continue
                if what == "pay":
                    self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="VI")
                    while not stop.is_set() and not any(
                            d["webhook_id"] not in known and d.get("status") == 200 for d in self._deliveries()):
                        time.sleep(0.1)
                self._send_bus_notify(channel)

        thread = threading.Thread(target=customer, daemon=True)
        thread.start()
        self.addCleanup(stop.set)
        with patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True), \
                patch.object(SaleOrder, "web_read", counting_web_read), \
                patch.object(SaleOrder, "posbridge_tour_signal", posbridge_tour_signal, create=True):
            self.start_tour(f"/odoo/sales/{order.id}", "posbridge_live_refresh_edits", login="admin", timeout=120)
        stop.set()
        thread.join(5)
        # Odoo's bus hands a new tab what the last 50 s brought, so the form also gets the
        # request's "sent" notification; it already shows the request waiting: no second read
        # (one would race the salesperson's typing and drop it).
        self.assertEqual(len(reads_before_paying), 1, "the form was read once before the customer paid")
        self.assertPaidAndConfirmed(order, 42.0)
        self.assertEqual(order.client_order_ref, "PO-777", "the salesperson's edit is saved")
        self.assertEqual(other.state, "draft")

    def test_tour_hesabe_link(self):
        """Open a quotation, send its Hesabe link; the customer pays at the sandbox; the form
        shows the order confirmed without a reload."""
        admin = self.env.ref("base.user_admin")
        order = self._order("KWD", price=25.5, user=admin)
        channel = self._bus_channel(admin)
        client = self.hesabe._posbridge_client()
        order_name = order.name  # the customer's thread reads nothing through Odoo's cursor
        created = self.sandbox.stats()["by_path"].get("POST /api/v1/invoice", 0)
        known = len(self.sandbox.hesabe_deliveries())
        stop = threading.Event()

        def lookups():
            return sum(n for path, n in self.sandbox.stats()["by_path"].items() if path.startswith("GET /api/v1/invoice/"))

        looked_up_before = lookups()

        def customer():
            # Pays once the tour has seen the link and pressed Check status (its lookup reaches the
            # sandbox; asked over HTTP, not through Odoo's cursor), then sends the bus NOTIFY that
            # the webhook's commit sends in production.
            while not stop.is_set() and not (
                    self.sandbox.stats()["by_path"].get("POST /api/v1/invoice", 0) > created
                    and lookups() > looked_up_before):
                time.sleep(0.1)
            if stop.is_set():
                return
            link = next(i for i in client.invoices().items if (i.reference_number or "").startswith(order_name))
            self.sandbox.hesabe_pay_invoice(link.token)
            while not stop.is_set():
                if any(d["status"] == 200 for d in self.sandbox.hesabe_deliveries()[known:]):
                    self._send_bus_notify(channel)
                    return
                time.sleep(0.1)

        thread = threading.Thread(target=customer, daemon=True)
        thread.start()
        self.addCleanup(stop.set)
        with patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True):
            self.start_tour(f"/odoo/sales/{order.id}", "posbridge_hesabe_link", login="admin", timeout=120)
        stop.set()
        thread.join(5)
        self.assertPaidAndConfirmed(order, 25.5)
        self.assertEqual(order.sudo().transaction_ids.posbridge_link_channel, "url")

    @mute_logger("odoo.http", "odoo.addons.posbridge.models.payment_transaction")
    def test_two_concurrent_requests_one_vendor_request(self):
        """Two users press Send at the same moment: one vendor request, one refusal."""
        order = self._order("KWD")
        wizards = [self._wizard(order, self.terminal_a99) for _ in range(2)]
        self.env.flush_all()
        self.sandbox.inject_fault("delay", path="/api/v1/merchant/smartpos-transaction", delay=0.5)
        created = self.sandbox.stats()["pos_invoices_created"]
        replies = self._press_at_once("posbridge.pay.wizard", "action_send", wizards)
        errors = [r.get("error") for r in replies if r.get("error")]
        self.assertEqual(len(errors), 1, replies)
        self.assertIn("already waiting", errors[0]["data"]["message"])
        self.assertEqual(self.sandbox.stats()["pos_invoices_created"], created + 1, "one vendor request")
        self.env.invalidate_all()
        self.assertEqual(len(order.transaction_ids), 1)

    def test_pending_request_mails_nobody(self):
        """Odoo's post-processing cron would mail "payment pending" again and again."""
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        mails = self.env["mail.mail"].search_count([])
        messages = len(order.message_ids)
        for _ in range(3):  # what each run of Odoo's post-processing cron does with it
            tx.is_post_processed = False
            tx._post_process()
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails)
        self.assertEqual(len(order.message_ids), messages)
        self.assertEqual(order.state, "draft", "no quotation mail marked it sent")

    def test_poller_runs_only_while_needed(self):
        cron = self.env.ref("posbridge.cron_posbridge_poll")
        self.env["payment.transaction"]._posbridge_toggle_cron()
        self.assertFalse(cron.active)
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        self.assertTrue(cron.active)
        self.sandbox.hesabe_pay(tx.provider_reference)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(tx.state, "done")
        self.assertFalse(cron.active)

    def test_never_offered_at_online_checkout(self):
        for currency in (self.kwd, self.cad):
            offered = self.env["payment.provider"]._get_compatible_providers(
                self.company.id, self.partner.id, 12.5, currency_id=currency.id)
            self.assertFalse(offered & (self.hesabe | self.helcim))
        self.assertFalse((self.hesabe | self.helcim).filtered("is_published"))
