"""What a sale order and a customer invoice share to be paid by a Hesabe link: the open link and
its banner, the Send Hesabe link wizard, Resend, Check status, Cancel link, one open link at a
time."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_amount

from .. import const
from .row_lock import lock_rows


class PosbridgeLinkDocument(models.AbstractModel):
    _name = "posbridge.link.document"
    _description = "A document payable by a Hesabe payment link"

    posbridge_link_transaction_id = fields.Many2one(
        string="Open Hesabe link", comodel_name="payment.transaction",
        compute="_compute_posbridge_link", compute_sudo=True,
    )
    posbridge_link_banner = fields.Char(string="Hesabe link", compute="_compute_posbridge_link", compute_sudo=True)
    posbridge_link_url = fields.Char(string="Payment link", compute="_compute_posbridge_link", compute_sudo=True)
    posbridge_link_can_resend = fields.Boolean(
        string="Link can be resent", compute="_compute_posbridge_link", compute_sudo=True)
    posbridge_link_is_embedded = fields.Boolean(
        string="Link on the embedded sandbox", compute="_compute_posbridge_link", compute_sudo=True)
    posbridge_can_send_link = fields.Boolean(
        string="Can be paid by a Hesabe link", compute="_compute_posbridge_can_send_link")

    # === TO BE PROVIDED BY THE DOCUMENT === #

    def _posbridge_link_left(self):
        """What is left to pay, in the document's currency."""
        raise NotImplementedError

    def _posbridge_link_proposed_amount(self):
        """The amount the wizard proposes."""
        return self._posbridge_link_left()

    def _posbridge_link_payable_state(self):
        """Whether the document's state allows a payment now."""
        raise NotImplementedError

    def _posbridge_link_tx_values(self):
        """The transaction's link to the document, e.g. ``{"sale_order_ids": [...]}``."""
        raise NotImplementedError

    def _posbridge_link_reference(self, provider):
        raise NotImplementedError

    def _posbridge_link_partner(self):
        return self.partner_id

    def _posbridge_link_description(self):
        return self.display_name

    def _posbridge_link_open_terminal_request(self):
        """A terminal request of this document that is waiting (none for an invoice)."""
        return self.env["payment.transaction"]

    # === COMPUTE METHODS === #

    @api.depends("transaction_ids.state")
    @api.depends_context("lang")  # the banner is a text
    def _compute_posbridge_link(self):
        """As superuser (compute_sudo): 19.0 shows `transaction_ids` to invoicing users only."""
        for document in self:
            tx = document.transaction_ids.filtered(
                lambda t: t.posbridge_link_channel and t.state == "pending")[:1]
            document.posbridge_link_transaction_id = tx
            document.posbridge_link_banner = tx._posbridge_link_summary() if tx else False
            document.posbridge_link_url = tx.posbridge_link_url
            document.posbridge_link_can_resend = bool(tx.posbridge_link_mobile) and bool(tx.posbridge_invoice_id)
            document.posbridge_link_is_embedded = bool(tx) and tx.provider_id.posbridge_environment == "embedded"

    def _compute_posbridge_can_send_link(self):
        providers = self.env["payment.provider"].sudo().search([
            ("code", "=", const.HESABE), ("state", "in", ("enabled", "test")), ("hesabe_link_enabled", "=", True),
        ])
        for document in self:
            document.posbridge_can_send_link = (
                document.company_id in providers.company_id
                and document.currency_id.name in const.SUPPORTED_CURRENCIES[const.HESABE]
                and document._posbridge_link_payable_state()
                and document.currency_id.compare_amounts(document._posbridge_link_left(), 0) > 0
            )

    # === ACTIONS === #

    def action_posbridge_send_link(self):
        """Open the Send Hesabe link wizard."""
        self.ensure_one()
        self._posbridge_link_check_sendable(self._posbridge_link_provider())
        action = self.env["ir.actions.act_window"]._for_xml_id("posbridge.action_posbridge_link_wizard")
        action["context"] = {"active_model": self._name, "active_id": self.id, "active_ids": self.ids}
        return action

    def action_posbridge_link_resend(self):
        self.ensure_one()
        tx = self.posbridge_link_transaction_id
        if not tx:
            raise UserError(_("%s has no open Hesabe link.", self.display_name))
        tx._posbridge_link_resend()
        return self.env["payment.provider"]._posbridge_notification(
            _("Hesabe is sending the link again to %s.", tx.posbridge_link_recipient), "success")

    def action_posbridge_link_check(self):
        """Ask Hesabe about this document's open (and watched) links."""
        self.ensure_one()
        txs = self.sudo().transaction_ids.filtered("posbridge_link_channel").filtered_domain(
            self.env["payment.transaction"]._posbridge_watch_domain())
        if not txs:
            raise UserError(_("%s has no Hesabe link to check.", self.display_name))
        txs._posbridge_check_status()
        pending = txs.filtered(lambda tx: tx.state == "pending")
        if pending:
            return self.env["payment.provider"]._posbridge_notification(
                _("The Hesabe link %s is not paid yet.", pending[0].reference), "info")
        return True

    def action_posbridge_link_cancel(self):
        """Cancel the open link at Hesabe, then in Odoo."""
        self.ensure_one()
        tx = self.sudo().posbridge_link_transaction_id
        if not tx:
            raise UserError(_("%s has no open Hesabe link.", self.display_name))
        self._posbridge_link_lock()
        if not tx._posbridge_link_cancel(_("%(user)s cancelled the Hesabe link %(ref)s.",
                                           user=self.env.user.name, ref=tx.reference)):
            return self.env["payment.provider"]._posbridge_notification(
                _("The customer had paid the link %s already: the payment is recorded.", tx.reference), "warning")
        return self.env["payment.provider"]._posbridge_notification(
            _("The Hesabe link %s is cancelled.", tx.reference), "success")

    def action_posbridge_link_simulate_paid(self):
        """The customer pays the link on the embedded sandbox (demo, tests)."""
        self.ensure_one()
        return self.sudo().posbridge_link_transaction_id.action_posbridge_simulate("paid")

    # === BUSINESS METHODS === #

    def _posbridge_link_provider(self):
        """The document's company's Hesabe provider that sends links.

        :raise UserError: there is none.
        """
        provider = self.env["payment.provider"]._posbridge_link_provider(self.company_id)
        if not provider:
            raise UserError(_("No Hesabe provider of %s sends payment links: an administrator turns "
                              "them on in the Hesabe provider's settings.", self.company_id.name))
        return provider

    def _posbridge_link_check_sendable(self, provider):
        """:raise UserError: the document cannot be paid by a Hesabe link now."""
        self.ensure_one()
        provider._posbridge_check_currency(self.currency_id)
        if not self._posbridge_link_payable_state():
            raise UserError(_("%s cannot be paid now.", self.display_name))
        if self.currency_id.compare_amounts(self._posbridge_link_left(), 0) <= 0:
            raise UserError(_("Nothing is left to pay on %s.", self.display_name))

    def _posbridge_link_lock(self):
        """Take the document for this link: a double click or two users make one Hesabe invoice.

        :raise UserError: another link for this document is being sent right now.
        """
        lock_rows(_("Another Hesabe link for %s is being sent; wait a moment, then look at it again.",
                    self.display_name), self)

    def _posbridge_send_link(self, amount, channel, customer, expires, language, replace=False):
        """Send a Hesabe payment link for `amount`: one open link at a time, unless `replace`
        (then the open one is cancelled at Hesabe first).

        :param dict customer: ``name``, ``email``, ``mobile`` (a `posbridge.hesabe.MobileNumber`).
        :return: the link's transaction.
        :raise UserError: the document cannot take it, a link or terminal request is open, or
            Hesabe refused.
        """
        self.ensure_one()
        document = self.sudo()
        provider = document._posbridge_link_provider()
        document._posbridge_link_check_sendable(provider)
        document._posbridge_link_lock()
        document.invalidate_recordset(["posbridge_link_transaction_id"])
        terminal_tx = document._posbridge_link_open_terminal_request()
        if terminal_tx:
            raise UserError(_("%(document)s is waiting for %(amount)s on terminal %(terminal)s: cancel that "
                              "request first.", document=document.display_name,
                              amount=format_amount(self.env, terminal_tx.amount, terminal_tx.currency_id),
                              terminal=terminal_tx.posbridge_terminal_id.name))
        open_tx = document.posbridge_link_transaction_id
        if open_tx and not replace:
            raise UserError(_("%(document)s has an open Hesabe link (%(summary)s): replace it, or "
                              "cancel it first.", document=document.display_name,
                              summary=open_tx._posbridge_link_summary()))
        if open_tx and not open_tx._posbridge_link_cancel(
                _("%(user)s replaced the Hesabe link %(ref)s by a new one.", user=self.env.user.name,
                  ref=open_tx.reference)):
            raise UserError(_("The customer had paid the link %s already: the payment is recorded; "
                              "look at what is left before sending another.", open_tx.reference))
        left = document._posbridge_link_left()
        if document.currency_id.compare_amounts(amount, 0) <= 0:
            raise UserError(_("The amount to pay must be positive."))
        if document.currency_id.compare_amounts(amount, left) > 0:
            raise UserError(_("At most %s is left to pay.", format_amount(self.env, left, document.currency_id)))
        return self.env["payment.transaction"]._posbridge_link_create(
            document, provider, amount, channel, customer, expires, language)
