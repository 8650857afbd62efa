"""One test per user story of the sale order flow, over real HTTP to the embedded sandbox."""

from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import PosbridgeCase


@tagged("post_install", "-at_install")
class TestSaleFlow(PosbridgeCase):
    def test_hesabe_pay_in_full(self):
        order = self._order("KWD", price=12.5)
        tx = self._push(order, self.terminal_a99)
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.posbridge_terminal_id, self.terminal_a99)
        self.assertTrue(tx.provider_reference, "Hesabe's transaction id is kept")
        self.assertTrue(tx.posbridge_invoice_id)
        self.assertEqual(order.posbridge_banner, "Waiting for 12.500 KWD on terminal A99")
        invoice = self.hesabe._posbridge_client().pos_invoice(tx.posbridge_invoice_id)
        self.assertEqual(invoice.invoice_number, tx.reference, "the reference is Hesabe's invoice number")
        self.assertEqual(invoice.amount, self.D("12.500"))
        self.assertIn("A99", order.message_ids[:3].mapped("body")[-1] + "".join(order.message_ids.mapped("body")))
        self._hesabe_pay(tx)
        self.assertEqual(tx.state, "done")
        self.assertPaidAndConfirmed(order, 12.5)
        self.assertTrue(order.invoice_ids.filtered(lambda m: m.state == "posted"), "automatic invoice")
        self.assertFalse(order.posbridge_pending_transaction_id)

    def test_helcim_pay_in_full(self):
        order = self._order("CAD", price=10.99)
        tx = self._push(order, self.terminal_dy6l)
        self.assertEqual(tx.state, "pending")
        self._helcim_pay(tx, card_type="VI")
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.posbridge_card_type, "VI")
        self.assertTrue(tx.provider_reference)
        self.assertPaidAndConfirmed(order, 10.99)

    def test_partial_then_rest(self):
        order = self._order("KWD", price=20.0)
        first = self._push(order, self.terminal_a99, amount=5.25)
        self._hesabe_pay(first)
        self.env.invalidate_all()
        self.assertAlmostEqual(order.amount_paid, 5.25)
        wizard = self._wizard(order, self.terminal_a99)
        self.assertAlmostEqual(wizard.amount_max, 14.75, places=3)
        with self.assertRaises(UserError):
            self._push(order, self.terminal_a99, amount=14.751)
        rest = self._push(order, self.terminal_a99, amount=14.75)
        self._hesabe_pay(rest)
        self.assertPaidAndConfirmed(order, 20.0)
        self.assertEqual(len(order.transaction_ids.payment_id), 2, "partial payments add up")

    def test_prepayment_proposed_never_more_than_left(self):
        """A quotation that asks for a full prepayment, partly paid: the wizard proposes what is
        still needed, never the whole prepayment again (Odoo 19's payment-link default does)."""
        order = self._order("KWD", price=100.0)
        order.write({"require_payment": True, "prepayment_percent": 1.0})
        self._hesabe_pay(self._push(order, self.terminal_a99, amount=60.0))
        self.env.invalidate_all()
        self.assertEqual(order.state, "draft", "not enough to confirm")
        wizard = self._wizard(order, self.terminal_a99)
        self.assertAlmostEqual(wizard.amount, 40.0, places=3)
        self.assertAlmostEqual(wizard.amount_max, 40.0, places=3)
        self.assertAlmostEqual(wizard.amount_paid, 60.0, places=3)
        order.prepayment_percent = 0.5  # 50 needed, 60 paid: the rest is proposed
        self.assertAlmostEqual(self._wizard(order, self.terminal_a99).amount, 40.0, places=3)

    def test_customer_phone_from_the_partner(self):
        """The wizard proposes the partner's phone; its mobile where the series still has one
        (19.0 has only `phone`); nothing when there is neither."""
        order = self._order("KWD")
        self.assertEqual(self._wizard(order, self.terminal_a99).customer_phone, "+96550001234")
        self.partner.phone = False
        self.assertFalse(self._wizard(order, self.terminal_a99).customer_phone)
        if "mobile" in self.partner._fields:  # 18.0
            self.partner.mobile = "+96560001234"
            self.assertEqual(self._wizard(order, self.terminal_a99).customer_phone, "+96560001234")

    def test_hesabe_decline(self):
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        self.sandbox.hesabe_decline(tx.provider_reference)
        order.action_posbridge_check_status()
        self.assertEqual(tx.state, "error")
        self.assertEqual(order.state, "draft")
        self.assertTrue(order.posbridge_can_pay, "the customer may try again")

    def test_helcim_decline(self):
        order = self._order("CAD")
        tx = self._push(order, self.terminal_dy6l)
        self._helcim_pay(tx, outcome="declined")
        self.assertEqual(tx.state, "error")
        self.assertEqual(order.amount_paid, 0)

    def test_helcim_cancel_on_device(self):
        order = self._order("CAD")
        tx = self._push(order, self.terminal_dy6l)
        self._helcim_pay(tx, outcome="cancelled")
        self.assertEqual(tx.state, "cancel")
        self.assertFalse(order.posbridge_pending_transaction_id)

    def test_late_approval_after_local_cancel(self):
        order = self._order("CAD")
        tx = self._push(order, self.terminal_dy6l)
        order.action_posbridge_cancel()
        self.assertEqual(tx.state, "cancel")
        self.assertTrue(tx.posbridge_watch_until)
        self._helcim_pay(tx)  # the customer paid on the device anyway
        self.assertEqual(tx.state, "done")
        self.assertPaidAndConfirmed(order, 12.5)
        self.assertTrue(any("after it had been cancelled" in body for body in order.message_ids.mapped("body")))

    def test_hesabe_late_payment_after_timeout(self):
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        tx.posbridge_sent_date -= timedelta(minutes=self.hesabe.posbridge_pending_timeout + 1)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(tx.state, "cancel", "looked up once more, still unpaid, then cancelled")
        self.sandbox.hesabe_pay(tx.provider_reference)
        self.env["payment.transaction"]._posbridge_cron_poll()
        self.assertEqual(tx.state, "done", "a payment the vendor took is never lost")
        self.assertPaidAndConfirmed(order, 12.5)

    def test_hesabe_resend_to_another_terminal(self):
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        other = self.env["posbridge.terminal"].search([
            ("provider_id", "=", self.hesabe.id), ("id", "!=", self.terminal_a99.id)], limit=1)
        order.action_posbridge_resend()
        stats = self.sandbox.stats()
        wizard = self.env["posbridge.pay.wizard"].with_context(
            active_model="sale.order", active_id=order.id, default_resend_transaction_id=tx.id).create({})
        self.assertEqual(wizard.terminal_id, self.terminal_a99)
        wizard.terminal_id = other
        wizard.action_send()
        self.assertEqual(tx.posbridge_terminal_id, other)
        after = self.sandbox.stats()
        self.assertEqual(after["pos_invoices_created"], stats["pos_invoices_created"], "the same POS invoice")
        path = "POST /api/v1/merchant/smartpos-transaction"
        self.assertEqual(after["by_path"].get(path, 0), stats["by_path"].get(path, 0) + 1, after["by_path"])
        self._hesabe_pay(tx)
        self.assertEqual(tx.state, "done", tx.state_message)
        self.assertPaidAndConfirmed(order, 12.5)

    def test_wrong_currency(self):
        order = self._order("EUR")
        with self.assertRaisesRegex(UserError, "KWD"):
            self._push(order, self.terminal_a99)
        with self.assertRaisesRegex(UserError, "CAD"):
            self._push(order, self.terminal_dy6l)
        self.assertFalse(order.transaction_ids, "nothing is created, nothing sent")

    def test_nothing_left_to_pay(self):
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        self._hesabe_pay(tx)
        self.assertFalse(order.posbridge_can_pay)
        with self.assertRaisesRegex(UserError, "Nothing is left to pay"):
            order.action_posbridge_pay()

    def test_device_not_listening(self):
        order = self._order("CAD")
        not_listening = self._terminal(self.helcim, "JFHP")
        purchases = self.sandbox.stats()["purchases_started"]
        with self.assertRaisesRegex(UserError, "open the Helcim app on the device"):
            self._push(order, not_listening)
        self.assertEqual(self.sandbox.stats()["purchases_started"], purchases)
        self.assertEqual(not_listening.last_status, "not_listening")

    def test_terminal_busy_with_another_order(self):
        first = self._order("KWD")
        self._push(first, self.terminal_a99)
        second = self._order("KWD")
        wizard = self._wizard(second, self.terminal_a99)
        self.assertIn(first.name, wizard.busy_message)
        with self.assertRaisesRegex(UserError, first.name):
            wizard.action_send()
        first.action_posbridge_cancel()
        wizard = self._wizard(second, self.terminal_a99)
        self.assertFalse(wizard.busy_message)

    def test_double_click_one_vendor_request(self):
        order = self._order("KWD")
        wizard = self._wizard(order, self.terminal_a99)
        created = self.sandbox.stats()["pos_invoices_created"]
        wizard.action_send()
        with self.assertRaisesRegex(UserError, "already waiting"):
            wizard.action_send()
        self.assertEqual(self.sandbox.stats()["pos_invoices_created"], created + 1)
        self.assertEqual(len(order.transaction_ids), 1)

    def test_hesabe_cancel_on_device(self):
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        self.sandbox.hesabe_cancel(tx.provider_reference)
        order.action_posbridge_check_status()
        self.assertEqual(tx.state, "cancel")
        self.assertFalse(order.posbridge_pending_transaction_id, "the terminal is free again")

    def test_customer_details_checked_before_anything_is_sent(self):
        order = self._order("KWD")
        created = self.sandbox.stats()["pos_invoices_created"]
        with self.assertRaisesRegex(UserError, "customer"):
            self._push(order, self.terminal_a99, customer_email="not an email")
        self.assertEqual(self.sandbox.stats()["pos_invoices_created"], created)
        self.assertFalse(order.transaction_ids)

    def test_simulate_the_customer_on_the_embedded_sandbox(self):
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        self.assertTrue(order.posbridge_pending_is_embedded)
        order.action_posbridge_simulate_paid()  # the banner's button: over the sandbox's HTTP controls
        self.assertEqual(tx.state, "done")
        self.assertPaidAndConfirmed(order, 12.5)
        self.hesabe.posbridge_environment = "vendor_sandbox"
        with self.assertRaisesRegex(UserError, "embedded sandbox"):
            tx.action_posbridge_simulate("paid")

    def test_action_menu_entry(self):
        action = self.env.ref("posbridge.action_server_posbridge_pay")
        salesman = self.env.ref("sales_team.group_sale_salesman")
        for pay_action in (action, self.env.ref("posbridge.action_posbridge_pay_wizard")):
            groups_field = "group_ids" if "group_ids" in pay_action._fields else "groups_id"  # 19.0 / 18.0
            self.assertEqual(pay_action[groups_field], salesman, "for salespeople")
        self.assertEqual(action.binding_model_id.model, "sale.order")
        order = self._order("KWD")
        opened = action.with_context(active_model="sale.order", active_id=order.id, active_ids=order.ids).run()
        self.assertEqual(opened["res_model"], "posbridge.pay.wizard")
        self._hesabe_pay(self._push(order, self.terminal_a99))
        with self.assertRaisesRegex(UserError, "Nothing is left to pay"):
            action.with_context(active_model="sale.order", active_id=order.id, active_ids=order.ids).run()
