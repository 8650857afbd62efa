"""The Point of Sale's terminal requests, one test per story, through the verbs the POS calls,
over real HTTP to the embedded sandbox (Helcim's signed webhooks into Odoo's route)."""

import uuid
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import PURCHASE_PATH, PosbridgePosCase, order_number


@tagged("post_install", "-at_install")
class TestPosRequests(PosbridgePosCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for register in (cls.register, cls.kwd_register):
            cls.env["pos.session"].create({"config_id": register.id, "user_id": cls.cashier.id})

    def test_helcim_pay_by_webhook(self):
        started = self.sandbox.stats()["purchases_started"]
        answer = self._send(self.helcim_method, self.register, 12.34)
        self.assertEqual(answer["state"], "pending", answer)
        self.assertRegex(answer["reference"], r"^\d{5}-001-0001-1$", "the order's receipt number, its first request")
        self.assertEqual(answer["terminal"], "DY6L", "the register's terminal")
        self.assertEqual(self.sandbox.stats()["purchases_started"], started + 1)
        self._customer_taps()
        request = self._request(answer)
        self.assertEqual(request.state, "done")
        self.assertEqual(request.card_type, "VI")
        self.assertTrue(request.vendor_reference)
        notified = self.env["bus.bus"].search([]).filtered(lambda b: request.name in b.message)
        self.assertTrue(notified, "the register is told")
        self.assertTrue(all(self.register.access_token in b.channel for b in notified), "on the register's channel")
        self.assertNotIn("12.34", " ".join(notified.mapped("message")), "by reference only: no amounts")
        self.assertEqual(self._status(self.helcim_method, self.register, answer)["state"], "done")

    def test_hesabe_pay_by_polling(self):
        answer = self._send(self.hesabe_method, self.kwd_register, 1.25)
        self.assertEqual(answer["state"], "pending", answer)
        request = self._request(answer)
        invoice = self.hesabe._posbridge_client().pos_invoice(request.vendor_invoice_id)
        self.assertEqual(invoice.amount, self.D("1.250"), "KWD, 3 decimals")
        self.assertEqual(invoice.invoice_number, request.name)
        self.assertEqual(self._status(self.hesabe_method, self.kwd_register, answer)["state"], "pending")
        self.sandbox.hesabe_pay(request.vendor_reference)
        self._seconds_pass(request, 3)  # the POS's next ask, 3 s later
        self.assertEqual(self._status(self.hesabe_method, self.kwd_register, answer)["state"], "done")

    def test_hesabe_lookups_are_throttled(self):
        answer = self._send(self.hesabe_method, self.kwd_register, 2.0)
        request = self._request(answer)
        path = f"GET /api/v1/merchant/smartpos-invoices/{request.vendor_invoice_id}"
        before = self.sandbox.stats()["by_path"].get(path, 0)
        for _ in range(8):  # eight tabs polling at once, just after the send
            self._status(self.hesabe_method, self.kwd_register, answer)
        self.assertEqual(self.sandbox.stats()["by_path"].get(path, 0), before, "not within 2.5 s of the send")
        self._seconds_pass(request, 3)
        for _ in range(8):  # eight tabs, 3 s later
            self._status(self.hesabe_method, self.kwd_register, answer)
        self.assertEqual(self.sandbox.stats()["by_path"].get(path, 0), before + 1, "one look-up for eight tabs")

    def test_vendors_asked_at_a_rate_they_allow(self):
        hesabe = self._request(self._send(self.hesabe_method, self.kwd_register, 2.0))
        helcim = self._request(self._send(self.helcim_method, self.register, 2.0))
        self.assertEqual(hesabe._lookup_interval().total_seconds(), 2.5)
        self.assertEqual(helcim._lookup_interval().total_seconds(), 15, "Helcim's webhook is the channel")
        path = f"GET /api/v1/merchant/smartpos-invoices/{hesabe.vendor_invoice_id}"
        before = self.sandbox.stats()["by_path"].get(path, 0)
        self._seconds_pass(hesabe, 2)
        self._status(self.hesabe_method, self.kwd_register, {"reference": hesabe.name})
        self.assertEqual(self.sandbox.stats()["by_path"].get(path, 0), before, "not before 2.5 s")
        self._seconds_pass(hesabe, 3)
        self._status(self.hesabe_method, self.kwd_register, {"reference": hesabe.name})
        self.assertEqual(self.sandbox.stats()["by_path"].get(path, 0), before + 1)
        # 40 registers waiting on Helcim at once: 0.75 look-ups a second in all, not 40 every 15 s
        self.env["posbridge.pos.request"].create([{
            "name": f"PBP-LOAD-{i}", "state": "pending", "config_id": self.register.id,
            "session_id": self.register.current_session_id.id, "payment_method_id": self.helcim_method.id,
            "terminal_id": self.terminal_dy6l.id, "company_id": self.company.id, "currency_id": self.cad.id,
            "amount": 1.0, "line_uuid": f"load-{i}"} for i in range(39)])
        self.assertAlmostEqual(helcim._lookup_interval().total_seconds(), 40 / 0.75, places=3)

    def test_decline_then_retry(self):
        line, number = str(uuid.uuid4()), order_number()
        first = self._send(self.helcim_method, self.register, 5.0, line_uuid=line, order_name=number)
        self._customer_taps("declined")
        self.assertEqual(self._request(first).state, "declined")
        self.assertEqual(self._status(self.helcim_method, self.register, first)["state"], "declined")
        second = self._send(self.helcim_method, self.register, 5.0, line_uuid=line, attempt=2, order_name=number)
        self.assertEqual([first["reference"], second["reference"]], [f"{number}-1", f"{number}-2"])
        self._customer_taps()
        self.assertEqual(self._request(second).state, "done")

    def test_vendor_invoice_number_is_the_order_reference(self):
        """The vendors file each request under its POS order's receipt number and its number on
        that order; a line with no usable receipt number, or one that loses its name to another
        line of the order committed meanwhile, gets the PBP- sequence."""
        number, nineteen = order_number(), f"261-3-{order_number()}"
        answer = self._send(self.helcim_method, self.register, 3.0, order_name=f"Order {number}")
        self.assertEqual(answer["reference"], f"{number}-1")
        self._customer_taps()
        [transaction] = self.helcim._posbridge_client().find_card_transactions(f"{number}-1")
        self.assertEqual(transaction.invoice_number, f"{number}-1", "Helcim files the payment under it")
        self.assertEqual(str(transaction.transaction_id), self._request(answer).vendor_reference)
        arabic = self._send(self.helcim_method, self.register, 2.0, order_name=f"طلب {number}")
        self.assertEqual(arabic["reference"], f"{number}-2", "the translated word is left out")
        self._customer_taps()
        self.assertEqual(self._send(self.helcim_method, self.register, 1.0, order_name=nineteen)["reference"],
                         f"{nineteen}-1", "19.0's receipt numbers")
        self._customer_taps()
        for name in ("", "Order", "طلب"):
            self.assertTrue(self._send(self.helcim_method, self.register, 1.0, order_name=name)["reference"].startswith("PBP-"),
                            name)
            self._customer_taps()
        raced_number = order_number()
        self.assertEqual(self._send(self.hesabe_method, self.kwd_register, 1.0, order_name=raced_number)["reference"],
                         f"{raced_number}-1")
        Request = type(self.env["posbridge.pos.request"])
        # another line of the same order took -1 in a transaction this one cannot see yet
        with patch.object(Request, "_name_taken", lambda self, name: False), mute_logger("odoo.sql_db"):
            raced = self._send(self.helcim_method, self.register, 1.0, order_name=raced_number)
        self.assertTrue(raced["reference"].startswith("PBP-"), raced)
        self.assertEqual(raced["state"], "pending", "the line is sent all the same")

    def test_cancelled_on_the_device(self):
        answer = self._send(self.helcim_method, self.register, 5.0)
        self._customer_taps("cancelled")
        self.assertEqual(self._request(answer).state, "cancelled")

    def test_cancel_then_late_payment_recorded_and_flagged(self):
        answer = self._send(self.helcim_method, self.register, 7.5)
        cancelled = self.helcim_method.with_user(self.cashier).posbridge_pos_cancel(self.register.id, answer["reference"])
        self.assertEqual(cancelled["state"], "cancelled")
        self.assertIn("DY6L", cancelled["message"], "cancel it on the device too")
        self._customer_taps()  # the customer paid there anyway
        request = self._request(answer)
        self.assertEqual(request.state, "done")
        self.assertTrue(request.late_payment)
        self.assertTrue(request.to_review, "shown to the manager")
        self.assertIn("after it was cancelled", request.message)

    def test_lost_webhook_found_by_polling(self):
        self.sandbox.helcim_webhook_url = None
        self.addCleanup(setattr, self.sandbox, "helcim_webhook_url", self._webhook_url(self.helcim))
        answer = self._send(self.helcim_method, self.register, 3.0)
        self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="MC")
        self.assertEqual(self._status(self.helcim_method, self.register, answer)["state"], "pending",
                         "Helcim is not asked within 15 s: its webhook is the channel")
        self._seconds_pass(self._request(answer), 16)
        self.assertEqual(self._status(self.helcim_method, self.register, answer)["state"], "done",
                         "found by reference at Helcim")

    @mute_logger("odoo.addons.posbridge.models.payment_provider")
    def test_lost_reply_reconciled_never_resent(self):
        self.sandbox.inject_fault("drop_reply", path=PURCHASE_PATH)
        started = self.sandbox.stats()["purchases_started"]
        line = str(uuid.uuid4())
        answer = self._send(self.helcim_method, self.register, 4.0, line_uuid=line)
        self.assertEqual(answer["state"], "pending")
        self.assertTrue(answer["outcome_unknown"])
        again = self._send(self.helcim_method, self.register, 4.0, line_uuid=line)  # the browser retries
        self.assertEqual(again["reference"], answer["reference"])
        self.assertEqual(self.sandbox.stats()["purchases_started"], started + 1, "never resent")
        # Found by reference at Helcim, not by its webhook (which would also reach Odoo's HTTP
        # thread while this thread uses the shared test cursor)
        self.sandbox.helcim_webhook_url = None
        self.addCleanup(setattr, self.sandbox, "helcim_webhook_url", self._webhook_url(self.helcim))
        self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="VI")
        request = self._request(answer)
        self._seconds_pass(request)
        self.assertEqual(self._status(self.helcim_method, self.register, answer)["state"], "done")
        self.assertFalse(request.outcome_unknown)

    def test_same_line_and_attempt_one_vendor_request(self):
        started = self.sandbox.stats()["purchases_started"]
        line = str(uuid.uuid4())
        first = self._send(self.helcim_method, self.register, 9.0, line_uuid=line)
        second = self._send(self.helcim_method, self.register, 9.0, line_uuid=line)
        self.assertEqual(first["reference"], second["reference"])
        self.assertEqual(self.sandbox.stats()["purchases_started"], started + 1)

    def test_one_open_request_per_terminal_across_sale_orders_and_the_pos(self):
        order = self._order("CAD", price=10.0)
        self._push(order, self.terminal_dy6l)
        busy = self._send(self.helcim_method, self.register, 5.0)
        self.assertEqual(busy["state"], "error")
        self.assertIn(order.name, busy["message"], "says which order holds it")
        order.action_posbridge_cancel()
        still_shown = self._send(self.helcim_method, self.register, 5.0)
        self.assertEqual(still_shown["state"], "error", "the device still shows the order's purchase")
        known = self._webhook_ids()
        self.sandbox.helcim_complete("DY6L", outcome="cancelled")  # cancelled on the device too
        self._wait_for_webhook(known)
        answer = self._send(self.helcim_method, self.register, 5.0)
        self.assertEqual(answer["state"], "pending", answer)
        message = self.terminal_dy6l._posbridge_busy_message()
        self.assertIn("Register 1", message, "a sale order is told which register holds it")

    def test_force_done_by_a_manager_with_a_reason(self):
        answer = self._send(self.helcim_method, self.register, 6.0)
        with self.assertRaises(AccessError):
            self.helcim_method.with_user(self.cashier).posbridge_pos_force_done(
                self.register.id, answer["reference"], "printed APPROVED")
        manager_method = self.helcim_method.with_user(self.pos_manager)
        with self.assertRaisesRegex(UserError, "Say why"):
            manager_method.posbridge_pos_force_done(self.register.id, answer["reference"], " ")
        forced = manager_method.posbridge_pos_force_done(self.register.id, answer["reference"], "printed APPROVED")
        self.assertEqual((forced["state"], forced["forced"]), ("done", True))
        request = self._request(answer)
        self.assertEqual(request.forced_by_id, self.pos_manager)
        self.assertTrue(request.watch_until, "the vendor is still asked afterwards")

    def test_session_does_not_close_with_open_requests(self):
        answer = self._send(self.helcim_method, self.register, 8.0)
        session = self.register.current_session_id
        with self.assertRaisesRegex(UserError, answer["reference"]):
            session.action_pos_session_closing_control()
        self._customer_taps()
        self.assertEqual(self._request(answer).state, "done")

    def test_two_browsers_send_the_same_line_at_once(self):
        self.env.flush_all()
        self.sandbox.inject_fault("delay", path=PURCHASE_PATH, delay=0.5)
        started = self.sandbox.stats()["purchases_started"]
        data = {"order_uuid": str(uuid.uuid4()), "order_name": f"Order {order_number()}",
                "line_uuid": str(uuid.uuid4()), "attempt": 1, "amount": 7.0, "partner_id": self.partner.id}
        replies = self._send_at_once(self.helcim_method, self.register, data)
        results = [r.get("result") for r in replies]
        self.assertTrue(all(results), replies)
        self.assertEqual(self.sandbox.stats()["purchases_started"], started + 1, "one vendor request")
        self.assertEqual(len({r["reference"] for r in results}), 1, "both browsers see the same request")
        self.assertEqual(self.env["posbridge.pos.request"].search_count([("line_uuid", "=", data["line_uuid"])]), 1)

    def test_cashier_picks_another_terminal(self):
        terminals = self.helcim_method.with_user(self.cashier).posbridge_pos_terminals(self.register.id)
        self.assertEqual([t["name"] for t in terminals if t["default"]], ["DY6L"], "the register's")
        self.assertTrue(all(t["name"] != "A99" for t in terminals), "Helcim's only, of the register's company")
        other = next(t for t in terminals if t["name"] == "NBL7")
        answer = self.helcim_method.with_user(self.cashier).posbridge_pos_send({
            "config_id": self.register.id, "order_uuid": str(uuid.uuid4()), "order_name": f"Order {order_number()}",
            "line_uuid": str(uuid.uuid4()), "attempt": 1, "amount": 3.0, "terminal_id": other["id"]})
        self.assertEqual((answer["state"], answer["terminal"]), ("pending", other["name"]), answer)
        busy = self.helcim_method.with_user(self.cashier).posbridge_pos_terminals(self.register.id)
        self.assertTrue(next(t for t in busy if t["id"] == other["id"])["busy"])
        refused = self.helcim_method.with_user(self.cashier).posbridge_pos_send({
            "config_id": self.register.id, "order_uuid": str(uuid.uuid4()), "order_name": f"Order {order_number()}",
            "line_uuid": str(uuid.uuid4()), "attempt": 1, "amount": 3.0, "terminal_id": self.terminal_a99.id})
        self.assertEqual(refused["state"], "error", "another provider's terminal")
        self.sandbox.helcim_complete(other["name"], outcome="timeout")

    def test_one_terminal_per_provider_and_register(self):
        other = self.helcim.posbridge_terminal_ids.filtered(lambda t: t != self.terminal_dy6l)[:1]
        with self.assertRaisesRegex(ValidationError, "one terminal per provider"):
            other.pos_config_ids = self.register
        other.pos_config_ids = self.kwd_register  # another register: fine
        self.terminal_a99.pos_config_ids |= self.register  # another provider: fine

    def test_arabic(self):
        """The shared ar.po loads on the series and translates what the cashier reads: the
        busy refusal, the receipt's lines, the request's states."""
        self.env["res.lang"]._activate_lang("ar_001")
        self.env["ir.module.module"]._load_module_terms(["pos_posbridge"], ["ar_001"], overwrite=True)
        self.cashier.lang = "ar_001"
        first = self._send(self.helcim_method, self.register, 3.0)
        busy = self._send(self.helcim_method, self.register, 3.0)
        self.assertIn("مشغول", busy["message"], busy)
        self._customer_taps()
        answer = self._status(self.helcim_method, self.register, first)
        self.assertIn("الجهاز: DY6L", answer["receipt"])
        states = dict(self.env["posbridge.pos.request"].with_context(lang="ar_001").fields_get(["state"])["state"]["selection"])
        self.assertEqual(states["pending"], "بانتظار الجهاز")

    def test_rights(self):
        clerk = new_test_user(self.env, login="posbridge_clerk", groups="base.group_user")
        with self.assertRaises(AccessError):
            self._send(self.helcim_method, self.register, 1.0, user=clerk)
        with self.assertRaises(AccessError):
            self._send(self.helcim_method, self.kwd_register, 1.0)  # not one of that register's methods
        self.register.current_session_id.state = "closed"
        with self.assertRaises(AccessError):
            self._send(self.helcim_method, self.register, 1.0)
        with self.assertRaises(AccessError):
            self.hesabe.with_user(self.cashier).read(["hesabe_secret_key"])

    def test_no_terminal_no_request(self):
        self.terminal_dy6l.pos_config_ids = False
        answer = self._send(self.helcim_method, self.register, 1.0)
        self.assertEqual(answer["state"], "error")
        self.assertIn("No Helcim Smart Terminal terminal is assigned to Register 1", answer["message"])

    def test_the_cron_follows_requests_whose_tab_closed(self):
        self.sandbox.helcim_webhook_url = None
        self.addCleanup(setattr, self.sandbox, "helcim_webhook_url", self._webhook_url(self.helcim))
        answer = self._send(self.helcim_method, self.register, 2.5)
        self.assertTrue(self.env.ref("posbridge.cron_posbridge_poll").active)
        self.sandbox.helcim_complete("DY6L", outcome="approved", card_type="VI")
        self.env["payment.transaction"]._posbridge_cron_poll()
        request = self._request(answer)
        self.assertEqual(request.state, "done")
        self.assertTrue(request.to_review, "paid, and no POS order records it: shown to the manager")
        self.assertIn(request, self.env["posbridge.pos.request"].with_user(self.pos_manager).search(
            [("to_review", "=", True)]))

    def test_providers_stay_off_online_checkout(self):
        offered = self.env["payment.provider"]._get_compatible_providers(
            self.company.id, self.partner.id, 10.0, currency_id=self.kwd.id)
        self.assertFalse(offered & (self.hesabe | self.helcim))
