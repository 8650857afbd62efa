"""What the Point of Sale addon's tests share: two registers, each selling in its terminal's
currency, with a terminal payment method; a cashier and a POS manager; the verbs as the POS
calls them."""

import itertools
import uuid
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.bus.models.bus import channel_with_db, hashable
from odoo.addons.posbridge.tests.common import PosbridgeCase

PURCHASE_PATH = "/v2/devices/DY6L/payment/purchase"
#: Receipt numbers for the tests' orders. The sandbox outlives each test's rollback, so every
#: order gets one of its own, as a register's orders do: the vendor never sees one twice.
ORDER_NUMBERS = itertools.count(1)


def order_number():
    """A receipt number no other test has used, as 18.0's POS writes one."""
    return f"{next(ORDER_NUMBERS):05d}-001-0001"


class PosbridgePosCase(PosbridgeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Each register sells in its terminal's currency (the sandbox's Helcim account is in
        # CAD, Hesabe in KWD): its sales journal, pricelist and payment journal in it.
        cls.helcim_method = cls._terminal_method("Helcim card", cls.helcim, cls.cad)
        cls.hesabe_method = cls._terminal_method("KNET (Hesabe)", cls.hesabe, cls.kwd)
        cls.register = cls._register("Register 1", cls.cad, cls.helcim_method)
        cls.kwd_register = cls._register("Register KWD", cls.kwd, cls.hesabe_method)
        cls.terminal_dy6l.pos_config_ids = cls.register
        cls.terminal_a99.pos_config_ids = cls.kwd_register
        cls.cashier = new_test_user(cls.env, login="posbridge_cashier", name="Cyrus Cashier",
                                    groups="point_of_sale.group_pos_user")
        cls.pos_manager = new_test_user(cls.env, login="posbridge_pos_manager", name="Maha POS Manager",
                                        groups="point_of_sale.group_pos_manager")
        cls.product.write({"available_in_pos": True})

    @classmethod
    def _register(cls, name, currency, method):
        """A register selling in `currency`, paid by `method` or in cash (with a single
        method, the POS would send each order to the terminal as the payment screen opens)."""
        journal = cls.env["account.journal"].create(
            {"name": f"POS sales {currency.name}", "type": "sale", "code": f"P{currency.name}", "currency_id": currency.id})
        cash_journal = cls.env["account.journal"].create(
            {"name": f"Cash {currency.name}", "type": "cash", "code": f"C{currency.name}", "currency_id": currency.id})
        cash = cls.env["pos.payment.method"].create(
            {"name": f"Cash {currency.name}", "journal_id": cash_journal.id, "is_cash_count": True})
        pricelist = cls.pricelists[currency.name]
        return cls.env["pos.config"].create({
            "name": name, "journal_id": journal.id, "use_pricelist": True, "pricelist_id": pricelist.id,
            "available_pricelist_ids": [Command.set(pricelist.ids)],
            "payment_method_ids": [Command.set((method | cash).ids)]})

    @classmethod
    def _terminal_method(cls, name, provider, currency):
        journal = cls.env["account.journal"].create(
            {"name": name, "type": "bank", "code": f"B{currency.name}", "currency_id": currency.id})
        return cls.env["pos.payment.method"].create({
            "name": name, "journal_id": journal.id, "payment_method_type": "terminal",
            "use_payment_terminal": provider.code, "posbridge_provider_id": provider.id})

    def _send(self, method, register, amount, line_uuid=None, attempt=1, user=None,
              order_name=None, **refund):
        return method.with_user(user or self.cashier).posbridge_pos_send({
            "config_id": register.id, "order_uuid": str(uuid.uuid4()),
            "order_name": f"Order {order_number()}" if order_name is None else order_name,
            "line_uuid": line_uuid or str(uuid.uuid4()), "attempt": attempt, "amount": amount,
            "partner_id": self.partner.id, **refund})

    def _status(self, method, register, answer):
        return method.with_user(self.cashier).posbridge_pos_status(register.id, answer["reference"])

    def _send_at_once(self, method, register, data, browsers=2):
        """`browsers` browsers of admin send the same payment line at the same moment, over
        HTTP (two threads, two sessions): the JSON-RPC replies."""
        body = {"model": "pos.payment.method", "method": "posbridge_pos_send",
                "args": [[method.id], {"config_id": register.id, **data}], "kwargs": {}}
        return self._rpc_at_once("/web/dataset/call_kw/pos.payment.method/posbridge_pos_send", [body] * browsers)

    @staticmethod
    def _seconds_pass(request, seconds=60):
        """`seconds` go by since the request was sent and last looked up (the POS's next ask
        is then allowed to reach the vendor)."""
        past = fields.Datetime.now() - timedelta(seconds=seconds)
        request.write({"sent_date": past, "last_check": past})

    def _request(self, answer):
        return self.env["posbridge.pos.request"].search([("name", "=", answer["reference"])])

    def _customer_taps(self, outcome="approved", card_type="VI"):
        """The customer on DY6L; Helcim's signed webhook reaches Odoo's route."""
        known = self._webhook_ids()
        self.sandbox.helcim_complete("DY6L", outcome=outcome, card_type=card_type)
        self._wait_for_webhook(known)

    def _register_channel(self, register):
        """The bus channel of `register`'s open POS (`pos.config._notify`'s), read in the
        test's thread for a helper thread to notify on."""
        register._ensure_access_token()
        return hashable(channel_with_db(self.env.cr.dbname, register.access_token))
