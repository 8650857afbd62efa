"""The browser tour, two concurrent requests over real HTTP, and the mails a pending request must
not send."""

import threading
import time

from unittest.mock import patch

import requests

from odoo import http, sql_db
from odoo.tests import tagged
from odoo.tools import config, mute_logger

from odoo.addons.bus.models.bus import channel_with_db, get_notify_payloads, hashable
from odoo.addons.bus.websocket import WebsocketConnectionHandler

from .common import PosbridgeCase


@tagged("post_install", "-at_install")
class TestUi(PosbridgeCase):
    def check_test_cursor(self, operation):
        """The sandbox delivers Helcim webhooks during the tour; it cannot carry the browser's
        test cookie, which Odoo requires of every request once a browser runs."""
        if http.request and http.request.httprequest.path.startswith("/posbridge/webhook/"):
            return
        super().check_test_cursor(operation)

    def test_tour_pay_on_terminal(self):
        """Open an order, press Pay on terminal, send; the customer pays at the sandbox; the open
        form shows the order confirmed, without a reload (Odoo's bus)."""
        admin = self.env.ref("base.user_admin")
        self.terminal_dy6l.user_ids = admin
        order = self._order("CAD", price=42.0)
        # Test cursors drop post-commit hooks, among them the bus's NOTIFY: the customer thread
        # sends it, as the webhook's commit does in production.
        channel = hashable(channel_with_db(self.env.cr.dbname, admin.partner_id))
        known = self._webhook_ids()
        lookups = "GET /v2/card-transactions"
        checked = self.sandbox.stats()["by_path"].get(lookups, 0)
        stop = threading.Event()

        def customer():
            # Taps the card once the tour has seen the banner and pressed Check status (its
            # lookup reaches the sandbox), so that the form is open and waiting.
            while not stop.is_set() and self.sandbox.stats()["by_path"].get(lookups, 0) <= checked:
                time.sleep(0.1)
            if not stop.is_set():
                self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="VI")
            while not stop.is_set():
                if any(d["webhook_id"] not in known and d.get("status") == 200 for d in self._deliveries()):
                    with sql_db.db_connect("postgres").cursor() as cr:
                        for payload in get_notify_payloads([channel]):
                            cr.execute("SELECT pg_notify('imbus', %s)", (payload,))
                    return
                time.sleep(0.1)

        thread = threading.Thread(target=customer, daemon=True)
        thread.start()
        self.addCleanup(stop.set)
        with patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True):
            self.start_tour(f"/odoo/sales/{order.id}", "posbridge_pay_on_terminal", login="admin", timeout=120)
        stop.set()
        thread.join(5)
        self.assertPaidAndConfirmed(order, 42.0)

    @mute_logger("odoo.http", "odoo.addons.posbridge.models.payment_transaction")
    def test_two_concurrent_requests_one_vendor_request(self):
        """Two users press Send at the same moment: one vendor request, one refusal."""
        order = self._order("KWD")
        wizards = [self._wizard(order, self.terminal_a99) for _ in range(2)]
        self.env.flush_all()
        self.sandbox.inject_fault("delay", path="/api/v1/merchant/smartpos-transaction", delay=0.5)
        created = self.sandbox.stats()["pos_invoices_created"]
        url = f"http://127.0.0.1:{config['http_port']}/web/dataset/call_button"
        self.authenticate("admin", "admin")
        sessions = [requests.Session() for _ in wizards]  # two browsers, one user
        for session in sessions:
            session.cookies.set("session_id", self.session.sid)
        replies = [None, None]

        def press(index):
            replies[index] = sessions[index].post(url, json={
                "jsonrpc": "2.0", "method": "call", "id": index,
                "params": {"model": "posbridge.pay.wizard", "method": "action_send",
                           "args": [[wizards[index].id]], "kwargs": {}},
            }, timeout=60).json()

        threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
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
