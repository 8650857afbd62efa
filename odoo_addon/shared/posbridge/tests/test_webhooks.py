"""Helcim webhooks into the real route: signatures, replays, duplicates, strangers, mismatches,
and replies lost after the vendor processed the request."""

import json
import time
from decimal import Decimal
from types import SimpleNamespace

import posbridge
from posbridge import helcim
from posbridge import sandbox as posbridge_sandbox

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import PosbridgeCase

PURCHASE_PATH = "/v2/devices/DY6L/payment/purchase"


@tagged("post_install", "-at_install")
class TestWebhooks(PosbridgeCase):
    def _post_webhook(self, body, headers):
        return self.url_open(self._webhook_url(self.helcim), data=body, headers=headers, timeout=20)

    def test_deliveries_unique_in_the_database(self):
        """The unique index behind the webhook deduplication exists (declared the 18.0 way, 19.0
        would drop it with a warning, and then every webhook answers 500)."""
        self.env.cr.execute("""
            SELECT indexdef FROM pg_indexes
             WHERE tablename = 'posbridge_webhook_delivery' AND indexdef LIKE 'CREATE UNIQUE INDEX%%'""")
        definitions = [row[0] for row in self.env.cr.fetchall()]
        self.assertTrue(any("(provider_id, webhook_id)" in d for d in definitions), definitions)
        delivery = self.env["posbridge.webhook.delivery"]
        event = SimpleNamespace(webhook_id="msg_once", type="cardTransaction")
        self.assertTrue(delivery._posbridge_first_delivery(self.helcim, event))
        self.assertFalse(delivery._posbridge_first_delivery(self.helcim, event), "a repeat")

    @mute_logger("odoo.addons.posbridge.controllers.main")
    def test_bad_signature_changes_nothing(self):
        order = self._order("CAD")
        tx = self._push(order, self.terminal_dy6l)
        body = json.dumps({"id": "424242", "type": "cardTransaction"}).encode()
        response = self._post_webhook(body, {
            "webhook-id": "msg_forged", "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,c2lnbmF0dXJlLWZyb20tc29tZWJvZHktZWxzZQ==",
            "Content-Type": "application/json",
        })
        self.assertEqual(response.status_code, 401)
        self.env.invalidate_all()
        self.assertEqual(tx.state, "pending")
        self.assertFalse(self.env["posbridge.webhook.delivery"].search([("webhook_id", "=", "msg_forged")]))

    @mute_logger("odoo.addons.posbridge.controllers.main")
    def test_sandbox_bad_signature_then_retry(self):
        order = self._order("CAD")
        tx = self._push(order, self.terminal_dy6l)
        attempts = self._helcim_pay(tx, fault="bad_signature")
        self.assertEqual([a["status"] for a in attempts][:2], [401, 200], "refused, then Helcim's retry is taken")
        self.assertEqual(len({a["webhook_id"] for a in attempts}), 1)
        self.assertEqual(tx.state, "done")
        self.assertPaidAndConfirmed(order, 12.5)

    @mute_logger("odoo.addons.posbridge.controllers.main")
    def test_stale_timestamp_refused(self):
        order = self._order("CAD")
        tx = self._push(order, self.terminal_dy6l)
        attempts = self._helcim_pay(tx, fault="stale_timestamp")
        self.assertEqual(attempts[0]["status"], 401, "an hour-old delivery is a replay")
        self.assertEqual(tx.state, "done", "the fresh retry is taken")

    def test_duplicate_delivery_processed_once(self):
        order = self._order("CAD")
        tx = self._push(order, self.terminal_dy6l)
        attempts = self._helcim_pay(tx, fault="duplicate_webhook", count=2)
        self.assertEqual([a["status"] for a in attempts], [200, 200], self._deliveries())
        self.assertEqual(attempts[0]["webhook_id"], attempts[1]["webhook_id"])
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(tx.payment_id), 1, "one payment for two deliveries")
        self.assertEqual(
            self.env["posbridge.webhook.delivery"].search_count([("webhook_id", "=", attempts[0]["webhook_id"])]), 1
        )

    @mute_logger("odoo.addons.posbridge.models.payment_transaction")
    def test_unknown_reference_acknowledged(self):
        client = helcim.Client(**self.sandbox.helcim_credentials)
        client.purchase("DY6L", Decimal("3.00"), "CAD", invoice_number="NOT-AN-ODOO-REF")
        known = self._webhook_ids()
        self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="VI")
        attempts = self._wait_for_webhook(known)
        self.assertEqual(attempts[-1]["status"], 200, "a stranger's payment is acknowledged, not retried")
        self.assertFalse(self.env["payment.transaction"].search([("reference", "=", "NOT-AN-ODOO-REF")]))

    @mute_logger("odoo.addons.posbridge.models.payment_transaction")
    def test_amount_mismatch_is_an_error(self):
        surcharging = posbridge_sandbox.Sandbox(helcim_fee_saver=3.5, helcim_retry_scale=0.002)
        self.addCleanup(surcharging.close)
        surcharging.helcim_webhook_url = self._webhook_url(self.helcim)
        self.helcim.posbridge_sandbox_url = surcharging.url
        self.env.flush_all()
        order = self._order("CAD", price=100.0)
        tx = self._push(order, self.terminal_dy6l)
        self.env.flush_all()
        known = {d["webhook_id"] for d in surcharging.helcim_deliveries()}
        surcharging.helcim_complete("DY6L", outcome="approved", card_type="VI")
        self._wait_for_webhook(known, sandbox=surcharging)
        self.assertEqual(tx.state, "error", "103.50 paid for 100.00 asked is not a silent done")
        self.assertIn("103.5", tx.state_message)
        self.assertEqual(order.amount_paid, 0)
        self.assertTrue(any("103.5" in body for body in order.message_ids.mapped("body")), "the chatter says so")

    @mute_logger("odoo.addons.posbridge.models.payment_transaction")
    def test_helcim_reply_dropped_then_reconciled(self):
        order = self._order("CAD")
        self.sandbox.inject_fault("drop_reply", path=PURCHASE_PATH)
        started = self.sandbox.stats()["purchases_started"]
        tx = self._push(order, self.terminal_dy6l)
        self.assertEqual(tx.state, "pending", "sent, reply lost: kept pending, with what reconciles it")
        self.assertTrue(tx.posbridge_outcome_unknown)
        self.assertEqual(self.sandbox.stats()["purchases_started"], started + 1, "never resent")
        self._helcim_pay(tx)
        self.assertEqual(tx.state, "done")
        self.assertFalse(tx.posbridge_outcome_unknown)
        self.assertPaidAndConfirmed(order, 12.5)

    @mute_logger("odoo.addons.posbridge.models.payment_transaction")
    def test_hesabe_reply_dropped_then_reconciled(self):
        order = self._order("KWD")
        self.sandbox.inject_fault("drop_reply", path="/api/v1/merchant/smartpos-transaction")
        created = self.sandbox.stats()["pos_invoices_created"]
        tx = self._push(order, self.terminal_a99)
        self.assertEqual(tx.state, "pending")
        self.assertTrue(tx.posbridge_outcome_unknown)
        self.assertFalse(tx.posbridge_invoice_id, "the reply with Hesabe's id was lost")
        self.assertEqual(self.sandbox.stats()["pos_invoices_created"], created + 1)
        order.action_posbridge_check_status()  # found by invoice number, still unpaid
        self.assertTrue(tx.posbridge_invoice_id)
        self.assertEqual(tx.state, "pending")
        self._hesabe_pay(tx)
        self.assertEqual(tx.state, "done")
        self.assertEqual(self.sandbox.stats()["pos_invoices_created"], created + 1, "nothing resent on its own")
        self.assertPaidAndConfirmed(order, 12.5)

    def test_webhook_route_has_no_vendor_name(self):
        self.assertNotIn("helcim", self.helcim.posbridge_webhook_url.lower())
        with self.assertRaises(posbridge.ConfigError):
            self.sandbox.helcim_webhook_url = "http://127.0.0.1:8069/payment/Helcim/webhook"
