"""Fixtures: an embedded sandbox on 127.0.0.1 (real HTTP, both vendors), the two terminal
providers pointed at it, KWD and CAD orders, and helpers that wait for the sandbox's webhook
deliveries without touching the database while Odoo's HTTP thread may be using it."""

import threading
import time
from decimal import Decimal

import requests

import posbridge
from posbridge import sandbox as posbridge_sandbox

from odoo import Command, http, sql_db
from odoo.modules import module as odoo_module
from odoo.tests import HttpCase, new_test_user
from odoo.tools import config

from odoo.addons.bus.models.bus import channel_with_db, get_notify_payloads, hashable
from odoo.addons.posbridge import const

from .series import SeriesCase


class PosbridgeCase(SeriesCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = posbridge_sandbox.Sandbox(helcim_retry_scale=0.002)
        cls.addClassCleanup(cls.sandbox.close)
        cls.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", True)
        cls.company = cls.env.company
        cls.kwd = cls.env.ref("base.KWD")
        cls.cad = cls.env.ref("base.CAD")
        (cls.kwd | cls.cad).active = True
        # Where the sandbox's Hesabe link webhooks go (the provider tells Hesabe its base URL).
        cls.env["ir.config_parameter"].sudo().set_param("web.base.url", f"http://127.0.0.1:{config['http_port']}")
        cls.hesabe = cls._setup_provider(const.HESABE)
        cls.helcim = cls._setup_provider(const.HELCIM)
        cls.sandbox.helcim_webhook_url = cls._webhook_url(cls.helcim)
        cls.env["posbridge.terminal"]._posbridge_sync(cls.hesabe | cls.helcim)
        # Each test sets the assignments it needs, with or without the demo data's.
        cls.env["posbridge.terminal"].with_context(active_test=False).search([]).write(
            {"user_ids": [Command.clear()], "team_ids": [Command.clear()], "is_company_default": False})
        cls.terminal_a99 = cls._terminal(cls.hesabe, "29708454")
        cls.terminal_dy6l = cls._terminal(cls.helcim, "DY6L")
        cls.salesman = new_test_user(
            cls.env, login="posbridge_salesman", name="Sara Salesman",
            groups="sales_team.group_sale_salesman",
        )
        cls.manager = new_test_user(
            cls.env, login="posbridge_manager", name="Mona Manager",
            groups="sales_team.group_sale_manager",
        )
        cls.partner = cls.env["res.partner"].create({
            "name": "Fatima Al-Sabah", "email": "fatima@example.com", "phone": "+96550001234",
        })
        cls.product = cls.env["product.product"].create({
            "name": "Espresso machine", "list_price": 12.5, "type": "consu", "invoice_policy": "order",
            "taxes_id": [Command.clear()],
        })
        cls.pricelists = {
            currency.name: cls.env["product.pricelist"].create({"name": currency.name, "currency_id": currency.id})
            for currency in (cls.kwd, cls.cad, cls.env.ref("base.EUR"))
        }

    def setUp(self):
        super().setUp()
        # The sandbox outlives each test's rollback: free the devices a test left waiting.
        for code in self.helcim.posbridge_terminal_ids.mapped("vendor_ref"):
            try:
                self.sandbox.helcim_complete(code, outcome="timeout")
            except posbridge.ValidationError:
                pass  # not waiting for a card

    @classmethod
    def _setup_provider(cls, code):
        provider = cls.env["payment.provider"].search([("code", "=", code)], limit=1)
        values = {
            "state": "test",
            "company_id": cls.env.company.id,
            "posbridge_environment": "embedded",
            "posbridge_sandbox_url": cls.sandbox.url,
        }
        if code == const.HESABE:
            values.update({f"hesabe_{k}": v for k, v in posbridge_sandbox.HESABE_CREDENTIALS.items()})
            values["hesabe_link_enabled"] = True
        else:
            values.update({
                "helcim_api_token": posbridge_sandbox.HELCIM_API_TOKEN,
                "helcim_verifier_token": posbridge_sandbox.HELCIM_VERIFIER_TOKEN,
                "helcim_currency": "CAD",
            })
        provider.write(values)
        return provider

    @classmethod
    def _webhook_url(cls, provider):
        return f"http://127.0.0.1:{config['http_port']}/posbridge/webhook/{provider.id}"

    @classmethod
    def _terminal(cls, provider, ref):
        return cls.env["posbridge.terminal"].search([("provider_id", "=", provider.id), ("vendor_ref", "=", ref)])

    def _order(self, currency="KWD", price=12.5, qty=1, user=None):
        return self.env["sale.order"].with_user(user or self.env.user).create({
            "partner_id": self.partner.id,
            "pricelist_id": self.pricelists[currency].id,
            "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": qty, "price_unit": price})],
        })

    def _wizard(self, order, terminal=None, **values):
        """The Pay on terminal wizard of `order`, with its defaults, as the order's user opens it."""
        if terminal:
            values["terminal_id"] = terminal.id
        return self.env["posbridge.pay.wizard"].with_user(order.env.user).with_context(
            active_model="sale.order", active_id=order.id
        ).create(values)

    def _push(self, order, terminal=None, amount=None, **values):
        """Pay on terminal → wizard → Send; returns the order's transaction."""
        if amount is not None:
            values["amount"] = amount
        self._wizard(order, terminal, **values).action_send()
        # 19.0 shows an order's transaction_ids to invoicing users only
        return order.posbridge_pending_transaction_id or order.sudo().transaction_ids.sorted("id")[-1:].with_env(order.env)

    def _deliveries(self, webhook_type=None, sandbox=None):
        return [d for d in (sandbox or self.sandbox).helcim_deliveries() if webhook_type in (None, d["type"])]

    def _webhook_ids(self):
        """The webhooks sent so far. Also writes pending changes to the database, which Odoo's
        HTTP thread reads when the next delivery arrives."""
        self.env.flush_all()
        return {d["webhook_id"] for d in self._deliveries()}

    def _press_at_once(self, model, method, records):
        """Press a button of each record at the same moment, from two browsers of admin (two
        threads, two sessions): the JSON-RPC replies, in order."""
        return self._rpc_at_once("/web/dataset/call_button", [
            {"model": model, "method": method, "args": [[record.id]], "kwargs": {}} for record in records])

    def _rpc_at_once(self, path, params):
        """One JSON-RPC call per entry of `params`, all at the same moment, each from its own
        browser of admin (a thread and a session each): the replies, in order."""
        url = f"http://127.0.0.1:{config['http_port']}{path}"
        self.authenticate("admin", "admin")
        sessions = [requests.Session() for _ in params]
        for session in sessions:
            session.cookies.set("session_id", self.session.sid)
        replies = [None] * len(params)

        def call(index):
            replies[index] = sessions[index].post(url, json={
                "jsonrpc": "2.0", "method": "call", "id": index, "params": params[index]}, timeout=60).json()

        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(params))]
        with self.posbridge_requests_allowed():
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        return replies

    def _bus_channel(self, user):
        """`user`'s bus channel, read in the test's thread (a helper thread reads nothing
        through Odoo's cursor)."""
        return hashable(channel_with_db(self.env.cr.dbname, user.partner_id))

    @staticmethod
    def _send_bus_notify(channel):
        """What a webhook's commit does in production: the bus's NOTIFY for `channel` (test
        cursors drop post-commit hooks, the bus's among them). From a helper thread, on a
        connection of its own."""
        with sql_db.db_connect("postgres").cursor() as cr:
            for payload in get_notify_payloads([channel]):
                cr.execute("SELECT pg_notify('imbus', %s)", (payload,))

    def _posbridge_is_webhook_of_this_test(self):
        """Whether Odoo's HTTP thread serves a sandbox webhook for the running test (such a
        request cannot carry a browser's test cookie; see `SeriesCase`)."""
        return (odoo_module.current_test is self and bool(http.request)
                and http.request.httprequest.path.startswith(("/posbridge/webhook/", "/posbridge/hesabe/")))

    def _wait_for_hesabe_webhook(self, known, status=200, count=1, timeout=15.0):
        """Wait until `count` Hesabe webhook POSTs after the first `known` ones got `status` from
        Odoo; return them (the sandbox's log only, as for Helcim's)."""
        deadline = time.monotonic() + timeout
        with self.posbridge_requests_allowed():
            while time.monotonic() < deadline:
                new = self.sandbox.hesabe_deliveries()[known:]
                if len([d for d in new if d["status"] == status]) >= count:
                    self.env.invalidate_all()
                    return new
                time.sleep(0.05)
        self.fail(f"{count} Hesabe webhook(s) answered {status} not seen: {self.sandbox.hesabe_deliveries()[known:]}")

    def _link(self, document, channel="sms", **values):
        """Send Hesabe link → wizard → Send; returns the document's link transaction."""
        wizard = self.env["posbridge.link.wizard"].with_user(document.env.user).with_context(
            active_model=document._name, active_id=document.id).create({"channel": channel, **values})
        wizard.action_send()
        return document.sudo().transaction_ids.filtered("posbridge_link_channel").sorted("id")[-1:]

    def _pay_link(self, tx, fault=None, count=1):
        """The customer pays the link at the sandbox; wait for Odoo to answer its webhook (none
        comes under the `hesabe_webhook_drop` fault)."""
        if fault:
            self.sandbox.inject_fault(fault)
        self.env.flush_all()
        known = len(self.sandbox.hesabe_deliveries())
        self.sandbox.hesabe_pay_invoice(tx.sudo().posbridge_link_token)
        if fault == "hesabe_webhook_drop":
            return []
        return self._wait_for_hesabe_webhook(known, count=count)

    def _invoice(self, price=20.0, currency="KWD"):
        """A posted customer invoice."""
        move = self.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": self.partner.id,
            "currency_id": self.env.ref(f"base.{currency}").id,
            "invoice_line_ids": [Command.create({"product_id": self.product.id, "quantity": 1, "price_unit": price,
                                                 "tax_ids": [Command.clear()]})],
        })
        move.action_post()
        return move

    def _wait_for_webhook(self, known_ids, status=200, count=1, timeout=15.0, sandbox=None):
        """Wait until `count` attempts of webhooks not among `known_ids` got `status` from
        Odoo, and return those webhooks' attempts. Reads the sandbox (`sandbox`, default the
        class's) only: Odoo's HTTP thread owns the test cursor while it handles a delivery."""
        deadline = time.monotonic() + timeout
        with self.posbridge_requests_allowed():
            while time.monotonic() < deadline:
                attempts = [d for d in self._deliveries(sandbox=sandbox) if d["webhook_id"] not in known_ids]
                if len([d for d in attempts if d.get("status") == status]) >= count:
                    self.env.invalidate_all()
                    return attempts
                time.sleep(0.05)
        self.fail(f"{count} new webhook attempt(s) answered {status} not seen: {self._deliveries()}")

    def _helcim_pay(self, tx, outcome="approved", card_type="VI", fault=None, count=1):
        """The customer acts on the Helcim device (the next delivery hit by `fault`, if any);
        wait for Odoo to answer 200 to `count` attempts, and return the webhook's attempts."""
        if fault:
            self.sandbox.inject_fault(fault)
        known = self._webhook_ids()
        self.sandbox.helcim_complete(tx.posbridge_terminal_id.vendor_ref, outcome=outcome, card_type=card_type)
        return self._wait_for_webhook(known, count=count)

    def _hesabe_pay(self, tx):
        self.sandbox.hesabe_pay(tx.provider_reference)
        tx._posbridge_check_status()

    def assertPaidAndConfirmed(self, order, amount):
        self.env.invalidate_all()
        self.assertEqual(order.state, "sale")
        self.assertAlmostEqual(order.amount_paid, float(amount), places=3)
        done = order.transaction_ids.filtered(lambda tx: tx.state == "done")
        self.assertTrue(done.payment_id, "the account.payment is created")
        self.assertTrue(all(state in ("in_process", "paid") for state in done.payment_id.mapped("state")),
                        "the account.payment is posted")

    @staticmethod
    def D(text):
        return Decimal(text)
