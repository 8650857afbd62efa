"""Terminals: sync from the vendors, uniqueness across companies, the assignment order, and who
may see and change what."""

import re

from posbridge import sandbox as posbridge_sandbox

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import PosbridgeCase


@tagged("post_install", "-at_install")
class TestTerminals(PosbridgeCase):
    def test_sync_creates_updates_archives(self):
        hesabe_refs = set(self.hesabe.posbridge_terminal_ids.mapped("vendor_ref"))
        listed = {t.terminal_id for t in self.hesabe._posbridge_client().terminals()}
        self.assertEqual(hesabe_refs, listed, "one terminal per Hesabe TerminalID")
        self.assertEqual(self.terminal_a99.name, "A99")
        helcim_refs = set(self.helcim.posbridge_terminal_ids.mapped("vendor_ref"))
        self.assertEqual(helcim_refs, {d.code for d in self.helcim._posbridge_client().devices()})
        # A terminal the vendor no longer lists is archived, never deleted; it comes back when listed.
        gone = self.env["posbridge.terminal"].create({
            "name": "Old counter", "provider_id": self.hesabe.id, "vendor_ref": "RETIRED1",
        })
        self.terminal_a99.name = "Renamed here"
        summary = self.hesabe.action_posbridge_sync_terminals()["params"]["message"]
        self.assertIn("1 archived", summary)
        self.assertFalse(gone.active)
        self.assertTrue(gone.exists())
        self.assertEqual(self.terminal_a99.name, "A99", "the vendor's name wins")

    def test_terminal_with_transactions_is_never_deleted(self):
        order = self._order("KWD")
        self._push(order, self.terminal_a99)
        with self.assertRaisesRegex(UserError, "archive it"):
            self.terminal_a99.unlink()

    def test_vendor_id_unique_across_companies(self):
        other_company = self.env["res.company"].create({"name": "Second Shop", "currency_id": self.kwd.id})
        other_provider = self.hesabe.copy({"company_id": other_company.id, "name": "Hesabe (Second Shop)"})
        other_provider.write({
            f"hesabe_{k}": v for k, v in posbridge_sandbox.HESABE_CREDENTIALS.items()
        } | {"posbridge_environment": "embedded", "posbridge_sandbox_url": self.sandbox.url})
        summary = self.env["posbridge.terminal"]._posbridge_sync(other_provider)
        self.assertIn("registered in another company", summary)
        self.assertFalse(other_provider.posbridge_terminal_ids.mapped("vendor_ref"), summary)
        with self.assertRaisesRegex(ValidationError, re.escape(self.company.name)):
            self.env["posbridge.terminal"].create({
                "name": "Twin", "provider_id": other_provider.id, "vendor_ref": self.terminal_a99.vendor_ref,
            })

    def test_assignment_order(self):
        team = self.env["crm.team"].create({"name": "Counter team"})
        order = self._order("KWD", user=self.salesman)
        order.team_id = team
        terminals = self.hesabe.posbridge_terminal_ids
        mine, teams, default = terminals[0], terminals[1], terminals[2]
        self.assertFalse(self.env["posbridge.terminal"].with_user(self.salesman)._posbridge_for_order(order),
                         "several terminals and no assignment: the salesperson chooses")
        default.is_company_default = True
        self.assertEqual(self._proposed(order), default)
        teams.team_ids = team
        self.assertEqual(self._proposed(order), teams, "the team's beats the company default")
        mine.user_ids = self.salesman
        self.assertEqual(self._proposed(order), mine, "the user's own beats the team's")
        self.assertEqual(self._wizard(order.with_user(self.salesman)).terminal_id, mine)
        self.assertIn(mine, self.salesman.posbridge_terminal_ids)
        self.assertIn(teams, team.posbridge_terminal_ids)
        # The proposal follows the currency: a CAD order gets a Helcim terminal.
        self.assertEqual(self._proposed(self._order("CAD", user=self.salesman)).provider_id, self.env["payment.provider"])
        self.terminal_dy6l.user_ids = self.salesman
        self.assertEqual(self._proposed(self._order("CAD", user=self.salesman)), self.terminal_dy6l)

    def _proposed(self, order):
        return self.env["posbridge.terminal"].with_user(self.salesman)._posbridge_for_order(order.with_user(self.salesman))

    def test_one_company_default(self):
        first, second = self.hesabe.posbridge_terminal_ids[:2]
        first.is_company_default = True
        with self.assertRaises(ValidationError):
            second.is_company_default = True

    def test_salesperson_pushes_but_never_sees_credentials(self):
        order = self._order("KWD", user=self.salesman)
        tx = self._push(order, self.terminal_a99)
        self.assertEqual(tx.state, "pending")
        provider = self.hesabe.with_user(self.salesman)
        for field in ("hesabe_secret_key", "hesabe_access_code", "hesabe_password", "hesabe_iv"):
            with self.assertRaises(AccessError):
                provider.read([field])
        with self.assertRaises(AccessError):
            self.helcim.with_user(self.salesman).read(["helcim_api_token"])
        with self.assertRaises(AccessError):
            self.terminal_a99.with_user(self.salesman).write({"name": "Mine now"})
        with self.assertRaises(AccessError):
            provider.write({"posbridge_pending_timeout": 1})
        self.assertEqual(self.terminal_a99.with_user(self.salesman).name, "A99", "salespeople see terminals")
        self.assertEqual(tx.with_user(self.salesman).state, "pending", "and their terminal payments")

    def test_manager_edits_terminals_not_providers(self):
        self.terminal_a99.with_user(self.manager).write({"user_ids": [(4, self.salesman.id)]})
        self.assertIn(self.salesman, self.terminal_a99.user_ids)
        with self.assertRaises(AccessError):
            self.hesabe.with_user(self.manager).write({"hesabe_merchant_code": "1"})

    def test_second_company_terminal(self):
        other_company = self.env["res.company"].create({"name": "Second Shop", "currency_id": self.kwd.id})
        other_provider = self.hesabe.copy({"company_id": other_company.id, "name": "Hesabe (Second Shop)"})
        foreign = self.env["posbridge.terminal"].create({
            "name": "Far away", "provider_id": other_provider.id, "vendor_ref": "FAR1",
        })
        order = self._order("KWD")
        self.assertNotIn(foreign, self._wizard(order, self.terminal_a99).candidate_terminal_ids)
        with self.assertRaisesRegex(UserError, "Second Shop"):
            order._posbridge_request_payment(foreign, 1.0, {"name": "X"})
        both = new_test_user(self.env, login="posbridge_two", groups="sales_team.group_sale_salesman",
                             company_ids=[(6, 0, [self.company.id])], company_id=self.company.id)
        self.assertFalse(self.env["posbridge.terminal"].with_user(both).search([("id", "=", foreign.id)]),
                         "a user of one company does not see the other's terminals")

    def test_arabic(self):
        """The shared ar.po loads on the series and translates what the salesperson reads: the
        banner, the wizard's labels, a refusal."""
        self.env["res.lang"]._activate_lang("ar_001")
        self.env["ir.module.module"]._load_module_terms(["posbridge"], ["ar_001"], overwrite=True)
        order = self._order("KWD")
        tx = self._push(order, self.terminal_a99)
        arabic = order.with_context(lang="ar_001")
        self.assertEqual(arabic.posbridge_banner, "بانتظار دفع 12.500 KWD على جهاز الدفع A99")
        labels = self.env["posbridge.pay.wizard"].with_context(lang="ar_001").fields_get(["terminal_id"])
        self.assertNotEqual(labels["terminal_id"]["string"], "Terminal")
        self._hesabe_pay(tx)
        with self.assertRaisesRegex(UserError, "[\u0600-\u06FF]"):
            arabic.action_posbridge_pay()  # nothing left to pay: refused, in Arabic
