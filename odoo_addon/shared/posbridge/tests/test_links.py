"""Pay by Hesabe link, one test per story, over real HTTP to the embedded sandbox: Hesabe creates
the invoice, the customer pays on its page, Hesabe's unsigned webhook comes back to Odoo, which
asks Hesabe before believing anything."""

import json
from datetime import timedelta

from posbridge import sandbox as posbridge_sandbox

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import config, mute_logger

from odoo.addons.posbridge.wizards.posbridge_link_wizard import kuwait_today

from .common import PosbridgeCase


@tagged("post_install", "-at_install")
class TestLinks(PosbridgeCase):
    def _lookups(self, tx):
        """How often Hesabe was asked about the link's invoice."""
        return self.sandbox.stats()["by_path"].get(f"GET /api/v1/invoice/{tx.sudo().posbridge_invoice_id}", 0)

    def _post_webhook(self, body):
        return self.url_open(f"http://127.0.0.1:{config['http_port']}/posbridge/hesabe/{self.hesabe.id}",
                             data=body, headers={"Content-Type": "application/json"}, timeout=20)

    def test_link_paid_confirms_the_order(self):
        order = self._order("KWD", price=12.5)
        created = self.sandbox.stats()["by_path"].get("POST /api/v1/invoice", 0)
        tx = self._link(order, "sms", mobile="+965 5000 1234")
        self.assertEqual(tx.state, "pending")
        self.assertEqual(self.sandbox.stats()["by_path"]["POST /api/v1/invoice"], created + 1, "one Hesabe invoice")
        self.assertEqual((tx.posbridge_link_channel, tx.posbridge_link_recipient), ("sms", "+965 5000 1234"))
        invoice = self.hesabe._posbridge_client().invoice(tx.posbridge_invoice_id)
        self.assertEqual(invoice.reference_number, tx.reference, "the transaction's reference is Hesabe's")
        self.assertEqual(invoice.amount, self.D("12.500"))
        self.assertEqual(invoice.raw["customer"]["phone_number"], "50001234")
        self.assertEqual(invoice.url, tx.posbridge_link_url)
        self.assertEqual(sorted(invoice.raw["payment_method"]), ["1", "2"], "KNET and cards, as the provider says")
        expires = fields.Date.to_string(tx.posbridge_link_expires)
        self.assertEqual(invoice.raw["expires_at"][:10], expires)
        self.assertIn("Hesabe link for 12.500 KWD sent by SMS to +965 5000 1234, expires", order.posbridge_link_banner)
        self.assertTrue(any(tx.posbridge_link_url in body for body in order.message_ids.mapped("body")),
                        "the chatter says what was sent where")
        self.assertFalse(order.posbridge_pending_transaction_id, "a link is no terminal request")
        attempts = self._pay_link(tx)
        self.assertEqual([(a["status"], a["url"]) for a in attempts],
                         [(200, f"http://127.0.0.1:{config['http_port']}/posbridge/hesabe/{self.hesabe.id}")],
                         "Hesabe's webhook comes back to Odoo")
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.posbridge_payment_token)
        self.assertPaidAndConfirmed(order, 12.5)
        self.assertTrue(order.invoice_ids.filtered(lambda m: m.state == "posted"), "automatic invoice")
        self.assertFalse(order.posbridge_link_transaction_id)

    def test_link_paid_settles_the_invoice(self):
        move = self._invoice(20.0)
        self.assertTrue(move.posbridge_can_send_link)
        tx = self._link(move, "email", email="fatima@example.com")
        self.assertEqual(tx.invoice_ids, move)
        self.assertEqual(tx.posbridge_link_recipient, "fatima@example.com")
        self.assertIn("sent by e-mail to fatima@example.com", move.posbridge_link_banner)
        self._pay_link(tx)
        self.assertEqual(tx.state, "done")
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        self.assertFalse(move.amount_residual)
        self.assertFalse(move.posbridge_can_send_link, "nothing left to pay")

    def test_partial_then_rest(self):
        move = self._invoice(20.0)
        first = self._link(move, "url", amount=5.25)
        self.assertIn("to share with the customer", move.posbridge_link_banner)
        self._pay_link(first)
        self.assertAlmostEqual(move.amount_residual, 14.75, places=3)
        wizard = self.env["posbridge.link.wizard"].with_context(active_model="account.move", active_id=move.id).create({})
        self.assertAlmostEqual(wizard.amount, 14.75, places=3)
        with self.assertRaisesRegex(UserError, "At most"):
            self._link(move, "url", amount=14.751)
        self._pay_link(self._link(move, "url", amount=14.75))
        self.assertIn(move.payment_state, ("paid", "in_payment"))

    def test_lost_webhook_found_by_the_cron(self):
        order = self._order("KWD", price=7.0)
        tx = self._link(order, "whatsapp", mobile="+96550001234")
        self.assertTrue(self.env.ref("posbridge.cron_posbridge_poll").active, "the poller runs while a link is open")
        self._pay_link(tx, fault="hesabe_webhook_drop")
        self.env.invalidate_all()
        self.assertEqual(tx.state, "pending", "Odoo heard nothing")
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(tx.state, "done")
        self.assertPaidAndConfirmed(order, 7.0)
        self.assertFalse(self.env.ref("posbridge.cron_posbridge_poll").active, "nothing left to watch")

    def test_duplicate_webhook_one_payment(self):
        order = self._order("KWD", price=9.0)
        tx = self._link(order, "sms", mobile="50001234")
        attempts = self._pay_link(tx, fault="hesabe_webhook_duplicate", count=2)
        self.assertEqual([a["attempt"] for a in attempts], [1, 2])
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(order.sudo().transaction_ids.payment_id), 1, "one payment")
        self.assertLessEqual(self._lookups(tx), 2, "the copy asked Hesabe at most once more")

    @mute_logger("odoo.addons.posbridge.models.payment_transaction_link", "odoo.addons.posbridge.controllers.main")
    def test_forged_webhooks_change_nothing_and_cannot_make_a_lookup_storm(self):
        order = self._order("KWD", price=30.0)
        tx = self._link(order, "url")
        requests_before = self.sandbox.stats()["requests"]
        forged = {"token": "84221700000000000000000000000", "amount": "30.000", "status": "SUCCESSFUL",
                  "reference_number": "NOT-AN-ODOO-REFERENCE", "payment_type": "KNET", "datetime": "2026-12-07 10:00:00"}
        self.assertEqual(self._post_webhook(json.dumps(forged)).status_code, 200)
        self.assertEqual(self.sandbox.stats()["requests"], requests_before, "an unknown reference calls nobody")
        forged["reference_number"] = tx.reference  # a known, unpaid link claimed paid
        for _ in range(5):
            self.assertEqual(self._post_webhook(json.dumps(forged)).status_code, 200)
        self.assertEqual(self._lookups(tx), 1, "one lookup for five webhooks")
        self.env.invalidate_all()
        self.assertEqual(tx.state, "pending", "Hesabe says unpaid: nothing changes")
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(self._lookups(tx), 2, "the throttled ones: one more lookup, by the poller")
        self.assertEqual(order.state, "draft")
        self.assertEqual(self._post_webhook(b"not a webhook").status_code, 400)
        self.assertEqual(self.url_open(f"http://127.0.0.1:{config['http_port']}/posbridge/hesabe/999999",
                                       data=json.dumps(forged), timeout=20).status_code, 404)

    @mute_logger("odoo.addons.posbridge.models.payment_transaction")
    def test_amount_mismatch_is_an_error(self):
        order = self._order("KWD", price=12.5)
        tx = self._link(order, "url")
        tx.sudo().amount = 13.0  # what Odoo expects no longer matches what Hesabe collects
        self._pay_link(tx)
        self.assertEqual(tx.state, "error")
        self.assertIn("12.5", tx.state_message)
        self.assertEqual(order.amount_paid, 0)

    def test_expired_link_closed_then_late_payment_recorded(self):
        order = self._order("KWD", price=4.0)
        tx = self._link(order, "url", expires=kuwait_today())  # its last day is today
        lookups = self._lookups(tx)
        tomorrow = fields.Datetime.now() + timedelta(days=2)
        tx._posbridge_poll_link(tomorrow)
        self.assertEqual(self._lookups(tx), lookups + 1, "looked up once more before closing")
        self.assertEqual(tx.state, "cancel")
        self.assertTrue(any("expired" in body for body in order.message_ids.mapped("body")))
        self.assertFalse(order.posbridge_link_transaction_id)
        self._pay_link(tx)  # Hesabe still took a payment: recorded
        self.assertEqual(tx.state, "done")
        self.assertPaidAndConfirmed(order, 4.0)
        self.assertTrue(any("after it had been cancelled or had expired" in body for body in order.message_ids.mapped("body")))

    def test_cancel_link_at_hesabe_then_in_odoo(self):
        order = self._order("KWD", price=6.0)
        tx = self._link(order, "url")
        order.action_posbridge_link_cancel()
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(self.hesabe._posbridge_client().invoice(tx.posbridge_invoice_id).state, "cancelled")
        with self.assertRaises(Exception):
            self.sandbox.hesabe_pay_invoice(tx.sudo().posbridge_link_token)  # the customer can no longer pay

    def test_cancel_after_the_customer_paid_records_the_payment(self):
        order = self._order("KWD", price=6.0)
        tx = self._link(order, "url")
        self._pay_link(tx, fault="hesabe_webhook_drop")  # paid, Odoo not told yet
        self.env.invalidate_all()
        order.action_posbridge_link_cancel()  # Hesabe refuses to cancel a paid invoice
        self.assertEqual(tx.state, "done")
        self.assertPaidAndConfirmed(order, 6.0)

    def test_resend(self):
        order = self._order("KWD")
        tx = self._link(order, "sms", mobile="+965 9000 1234")
        self.assertTrue(order.posbridge_link_can_resend)
        resent = self.sandbox.stats()["by_path"].get("POST /api/v1/invoice/resend", 0)
        order.action_posbridge_link_resend()
        self.assertEqual(self.sandbox.stats()["by_path"]["POST /api/v1/invoice/resend"], resent + 1)
        self.assertTrue(any("resent the link" in body for body in order.message_ids.mapped("body")))
        self.assertEqual(tx.state, "pending")

    def test_one_open_link_unless_replaced(self):
        order = self._order("KWD", price=10.0)
        old = self._link(order, "url")
        wizard = self.env["posbridge.link.wizard"].with_context(active_model="sale.order", active_id=order.id).create({})
        self.assertIn("Hesabe link for 10.000 KWD", wizard.open_link)
        with self.assertRaisesRegex(UserError, "replace it"):
            self._link(order, "url")
        new = self._link(order, "url", replace=True)
        self.assertNotEqual(new, old)
        self.assertEqual(old.state, "cancel")
        self.assertEqual(self.hesabe._posbridge_client().invoice(old.posbridge_invoice_id).state, "cancelled",
                         "cancelled at Hesabe first")
        self.assertEqual(order.posbridge_link_transaction_id, new)

    def test_no_link_while_a_terminal_request_is_open_and_back(self):
        order = self._order("KWD")
        self._push(order, self.terminal_a99)
        with self.assertRaisesRegex(UserError, "waiting for"):
            self._link(order, "url")
        order.action_posbridge_cancel()
        self._link(order, "url")
        with self.assertRaisesRegex(UserError, "open Hesabe link"):
            self._push(order, self.terminal_a99)

    def test_refund_through_the_merchant_api(self):
        order = self._order("KWD", price=12.5)
        tx = self._link(order, "url")
        self._pay_link(tx)
        action = tx.payment_id.action_refund_wizard()
        wizard = self.env[action["res_model"]].with_context(
            active_model="account.payment", active_id=tx.payment_id.id).create({"amount_to_refund": 2.5})
        wizard.action_refund()
        refund = tx.child_transaction_ids.filtered(lambda t: t.operation == "refund")
        self.assertEqual(refund.state, "pending", "Hesabe reviews refund requests")
        vendor_refund = self.hesabe._posbridge_client().refund(refund.provider_reference)
        self.assertEqual(vendor_refund.token, tx.posbridge_payment_token, "the link's payment is refunded")
        self.assertEqual(vendor_refund.amount, self.D("2.500"))
        self.sandbox.hesabe_set_refund_status(int(refund.provider_reference), 1)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(refund.state, "done")
        with self.assertRaisesRegex(UserError, "at most"):
            tx.action_refund(amount_to_refund=10.001)

    def test_bad_phone_or_email_sends_nothing(self):
        order = self._order("KWD")
        created = self.sandbox.stats()["by_path"].get("POST /api/v1/invoice", 0)
        for channel, values, says in [
            ("sms", {"mobile": "+44 7700 900123"}, "Gulf"),
            ("whatsapp", {"mobile": "1234"}, "mobile number"),
            ("sms", {"mobile": False}, "required"),
            ("email", {"email": "not an email"}, "e-mail"),
            ("email", {"email": False}, "e-mail"),
        ]:
            with self.assertRaisesRegex(UserError, says):
                self._link(order, channel, **values)
        self.assertEqual(self.sandbox.stats()["by_path"].get("POST /api/v1/invoice", 0), created, "nothing sent")
        self.assertFalse(order.sudo().transaction_ids, "nothing created")

    def test_second_company(self):
        other_company = self.env["res.company"].create({"name": "Salmiya Shop", "currency_id": self.kwd.id})
        self.env.user.company_ids |= other_company
        order = self._order("KWD").with_company(other_company)
        order.company_id = other_company
        self.assertFalse(order.posbridge_can_send_link, "no provider of that company sends links")
        with self.assertRaisesRegex(UserError, "No Hesabe provider of Salmiya Shop"):
            order.action_posbridge_send_link()
        provider = self.hesabe.copy({
            "company_id": other_company.id, "name": "Hesabe (Salmiya)", "state": "test",
            "posbridge_environment": "embedded", "posbridge_sandbox_url": self.sandbox.url,
            **{f"hesabe_{k}": v for k, v in posbridge_sandbox.HESABE_CREDENTIALS.items()},
        })
        order.invalidate_recordset(["posbridge_can_send_link"])
        self.assertTrue(order.posbridge_can_send_link)
        tx = self._link(order, "url")
        self.assertEqual(tx.provider_id, provider)

    def test_salesperson_and_invoicing_user_rights(self):
        order = self._order("KWD", user=self.salesman)
        tx = self._link(order, "url")
        self.assertEqual(tx.state, "pending")
        self.assertTrue(order.with_user(self.salesman).posbridge_link_url)
        with self.assertRaises(AccessError):
            self.hesabe.with_user(self.salesman).read(["hesabe_secret_key"])
        accountant = new_test_user(self.env, login="posbridge_invoicing", groups="account.group_account_invoice")
        move = self._invoice(8.0).with_user(accountant)
        self.assertEqual(self._link(move, "url").state, "pending")
        nobody = new_test_user(self.env, login="posbridge_nobody", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["posbridge.link.wizard"].with_user(nobody).with_context(
                active_model="account.move", active_id=move.id).create({})

    @mute_logger("odoo.http", "odoo.addons.posbridge.models.payment_transaction")
    def test_two_users_at_once_one_hesabe_invoice(self):
        order = self._order("KWD")
        wizards = [self.env["posbridge.link.wizard"].with_context(
            active_model="sale.order", active_id=order.id).create({"channel": "url"}) for _ in range(2)]
        self.env.flush_all()
        self.sandbox.inject_fault("delay", path="/api/v1/invoice", method="POST", delay=0.5)
        created = self.sandbox.stats()["by_path"].get("POST /api/v1/invoice", 0)
        replies = self._press_at_once("posbridge.link.wizard", "action_send", wizards)
        errors = [r.get("error") for r in replies if r.get("error")]
        self.assertEqual(len(errors), 1, replies)
        self.assertEqual(self.sandbox.stats()["by_path"]["POST /api/v1/invoice"], created + 1, "one Hesabe invoice")
        self.env.invalidate_all()
        self.assertEqual(len(order.sudo().transaction_ids), 1)

    def test_links_only_where_the_provider_offers_them(self):
        order = self._order("KWD")
        self.assertTrue(order.posbridge_can_send_link)
        self.assertFalse(order.posbridge_link_banner, "no link, no banner")
        wizard = self.env["posbridge.link.wizard"].with_context(active_model="sale.order", active_id=order.id).create({})
        self.assertFalse(wizard.open_link, "nothing to replace")
        self.assertFalse(self._order("CAD").posbridge_can_send_link, "Hesabe takes KWD only")
        self.hesabe.hesabe_link_enabled = False
        order.invalidate_recordset(["posbridge_can_send_link"])
        self.assertFalse(order.posbridge_can_send_link)
        with self.assertRaisesRegex(UserError, "turns them on"):
            order.action_posbridge_send_link()
        self.hesabe.write({"hesabe_link_enabled": True, "hesabe_link_amex": True, "hesabe_link_knet": False})
        tx = self._link(order, "url")
        methods = self.hesabe._posbridge_client().invoice(tx.posbridge_invoice_id).raw["payment_method"]
        self.assertEqual(sorted(methods), ["2", "7"])
        self.assertEqual(tx.payment_method_id, self.env.ref("posbridge.payment_method_hesabe_link"))
        self.assertIn(self.env.ref("posbridge.payment_method_hesabe_link"), self.hesabe.payment_method_ids)
        with self.assertRaisesRegex(ValidationError, "at least one payment method"):
            self.hesabe.write({"hesabe_link_amex": False, "hesabe_link_cards": False})

    def test_arabic_customers_get_arabic_links(self):
        self.env["res.lang"]._activate_lang("ar_001")
        self.env["ir.module.module"]._load_module_terms(["posbridge"], ["ar_001"], overwrite=True)
        self.partner.lang = "ar_001"
        order = self._order("KWD")
        wizard = self.env["posbridge.link.wizard"].with_context(active_model="sale.order", active_id=order.id).create({})
        self.assertEqual(wizard.language, "ar")
        tx = self._link(order, "url")
        self.assertEqual(self.hesabe._posbridge_client().invoice(tx.posbridge_invoice_id).raw.get("language"), "ar")
        banner = order.with_context(lang="ar_001").posbridge_link_banner
        self.assertTrue(banner.startswith("رابط Hesabe بمبلغ 12.500 KWD لمشاركته مع العميل"), banner)
