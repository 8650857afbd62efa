"""Pay by Hesabe link: a payment transaction whose customer pays a Hesabe invoice (a payment
link sent by SMS, WhatsApp, e-mail, or shared by the salesperson) instead of a terminal."""

import logging
from datetime import timedelta

import posbridge
from posbridge import hesabe

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date

from .. import const
from .payment_transaction import LATE_PAYMENT_WINDOW, commit_unless_testing

_logger = logging.getLogger(__name__)

#: How often the cron asks Hesabe about one open link (the webhook normally comes first).
LINK_POLL_INTERVAL = timedelta(minutes=5)
#: A webhook makes Odoo ask Hesabe about its link at most this often: a caller who forges
#: webhooks for a known link cannot make Odoo call Hesabe in a loop (unknown links: never).
WEBHOOK_LOOKUP_INTERVAL = timedelta(seconds=10)


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    posbridge_link_channel = fields.Selection(
        string="Link sent by", selection=const.LINK_CHANNELS, readonly=True,
        help="Set on a Hesabe payment link: how it reached the customer.",
    )
    posbridge_link_url = fields.Char(string="Payment link", readonly=True)
    posbridge_link_token = fields.Char(
        string="Hesabe invoice token", readonly=True, groups="base.group_system",
        help="Hesabe addresses an invoice by it to cancel it.",
    )
    posbridge_link_recipient = fields.Char(
        string="Sent to", readonly=True, help="The mobile number or e-mail the link was sent to.")
    posbridge_link_mobile = fields.Char(string="Mobile number", readonly=True)
    posbridge_link_country_code = fields.Char(string="Calling code", readonly=True)
    posbridge_link_expires = fields.Date(string="Link expires on", readonly=True)
    posbridge_payment_token = fields.Char(
        string="Hesabe payment token", readonly=True,
        help="The token of the customer's payment, which a refund request names.",
    )
    posbridge_checked_at = fields.Datetime(string="Last asked the vendor", readonly=True)
    posbridge_webhook_lookup_at = fields.Datetime(
        string="Last looked up for a webhook", readonly=True,
        help="Webhooks make Odoo ask the vendor about one link at most every few seconds.")
    posbridge_recheck = fields.Boolean(
        string="Ask the vendor again", readonly=True,
        help="A webhook came too soon after the last lookup: the poller asks at its next run.")

    # === HELPERS === #

    def _posbridge_link_summary(self):
        """"Hesabe link for 12.500 KWD sent by SMS to +965 5000 1234, expires 14 Dec" """
        self.ensure_one()
        channel = dict(const.LINK_CHANNELS).get(self.posbridge_link_channel)
        values = {
            "amount": f"{self._posbridge_amount()} {self.currency_id.name}",
            "recipient": self.posbridge_link_recipient,
            "expires": format_date(self.env, self.posbridge_link_expires, date_format="d MMM"),
        }
        if self.posbridge_link_channel == "url":
            return _("Hesabe link for %(amount)s to share with the customer, expires %(expires)s", **values)
        return _("Hesabe link for %(amount)s sent by %(channel)s to %(recipient)s, expires %(expires)s",
                 channel=channel, **values)

    def _posbridge_link_data(self, invoice):
        """Hesabe's invoice as notification data: its state, amount and, once paid, the
        payment's token (which a refund names)."""
        self.ensure_one()
        payment = invoice.transaction or {}
        return {
            "reference": invoice.reference_number or self.reference,
            "outcome": const.HESABE_LINK_STATE_MAPPING.get(invoice.state, "unknown"),
            "vendor_state": invoice.state,
            "amount": invoice.amount,
            "currency": "KWD",
            "vendor_reference": payment.get("token") or False,
            "payment_token": payment.get("token") or False,
            "card_type": (payment.get("payment_type") or {}).get("display_name") or False,
        }

    def _posbridge_link_expired(self, now):
        """Whether the link's last day is over, in Kuwait (Hesabe's) time."""
        kuwait_today = (now + timedelta(hours=3)).date()
        return bool(self.posbridge_link_expires) and self.posbridge_link_expires < kuwait_today

    # === STATUS === #

    def _posbridge_poll_link(self, now):
        """The cron's turn for one open or watched link: ask Hesabe now and then; an expired link
        is asked once more, then closed in Odoo with a note (a payment Hesabe reports later is
        still recorded while it is watched)."""
        self.ensure_one()
        expired = self.state == "pending" and self._posbridge_link_expired(now)
        due = (self.posbridge_recheck or not self.posbridge_checked_at
               or self.posbridge_checked_at + LINK_POLL_INTERVAL <= now)
        if expired or due:
            self._posbridge_check_status()
        if self.state == "pending" and expired:
            self._posbridge_cancel_locally(_(
                "The Hesabe link %(ref)s expired on %(date)s unpaid: closed in Odoo. A payment Hesabe "
                "reports later is still recorded.", ref=self.reference,
                date=format_date(self.env, self.posbridge_link_expires)))
        elif self.state != "pending" and self.posbridge_watch_until and self.posbridge_watch_until <= now:
            self.posbridge_watch_until = False

    @api.model
    def _posbridge_handle_hesabe_webhook(self, provider, event):
        """A Hesabe invoice webhook (unsigned): a trigger only. The link it names by reference is
        looked up at Hesabe, at most once per WEBHOOK_LOOKUP_INTERVAL for webhooks (Check status
        and the poller do not count), and Hesabe's answer is applied; the webhook's own claims are
        never trusted. An unknown reference changes nothing and calls nobody.

        :return: the transaction it was about, possibly empty.
        """
        tx = self.search([
            ("provider_id", "=", provider.id), ("reference", "=", event.reference_number or ""),
            ("posbridge_link_channel", "!=", False), ("operation", "!=", "refund"),
        ], limit=1)
        if not tx:
            _logger.info("posbridge: Hesabe webhook for an unknown reference %r ignored", event.reference_number)
            return tx
        now = fields.Datetime.now()
        watched = tx.state == "pending" or (tx.posbridge_watch_until and tx.posbridge_watch_until > now)
        if not watched:
            _logger.info("posbridge: Hesabe webhook for %s, which is %s: nothing to ask", tx.reference, tx.state)
            return tx
        last = tx.posbridge_webhook_lookup_at
        if last and last + WEBHOOK_LOOKUP_INTERVAL > now:
            # Not lost: the poller asks at its next run (once a minute, however many webhooks).
            _logger.info("posbridge: Hesabe webhook for %s: a webhook had Hesabe asked %s ago; the "
                         "poller asks next", tx.reference, now - last)
            tx.posbridge_recheck = True
            tx._posbridge_toggle_cron()
            return tx
        tx.posbridge_webhook_lookup_at = now
        tx._posbridge_check_status()
        return tx

    # === ACTIONS === #

    def _posbridge_link_resend(self):
        """Hesabe sends the link again by SMS to the number it was sent to.

        :raise UserError: not an open link with a mobile number, or Hesabe refused.
        """
        self.ensure_one()
        if self.state != "pending" or not self.posbridge_link_mobile:
            raise UserError(_("Only an open Hesabe link sent to a mobile number can be resent."))
        provider = self.provider_id
        try:
            provider._posbridge_client().resend_invoice(
                self.posbridge_invoice_id, mobile_number=self.posbridge_link_mobile,
                country_code=self.posbridge_link_country_code)
        except posbridge.Error as error:
            raise UserError(provider._posbridge_error_message(error)) from None
        self._posbridge_log(_("Hesabe resent the link %(ref)s by SMS to %(recipient)s.",
                              ref=self.reference, recipient=self.posbridge_link_recipient))

    def _posbridge_link_cancel(self, reason):
        """Cancel the link at Hesabe, then in Odoo. Hesabe answers first: a link it cannot cancel
        (paid meanwhile) is looked up instead, so that its payment is recorded.

        :return: True when it was cancelled, False when Hesabe reported it paid.
        :raise UserError: Hesabe could not be asked or refused.
        """
        self.ensure_one()
        if self.state != "pending":
            raise UserError(_("%s is no open Hesabe link.", self.reference))
        provider = self.provider_id
        try:
            provider._posbridge_client().cancel_invoice(self.sudo().posbridge_link_token)
        except posbridge.Error as error:
            self._posbridge_check_status()
            if self.state == "done":
                return False
            raise UserError(provider._posbridge_error_message(error)) from None
        self._posbridge_cancel_locally(reason)
        self.posbridge_watch_until = fields.Datetime.now() + LATE_PAYMENT_WINDOW
        self._posbridge_log(reason)
        return True

    @api.model
    def _posbridge_link_create(self, document, provider, amount, channel, customer, expires, language):
        """Create the pending transaction of a payment link for `document` (a sale order or a
        customer invoice), then the Hesabe invoice, with a webhook back to Odoo.

        :param dict customer: ``name``, ``email``, ``mobile`` (a `posbridge.hesabe.MobileNumber`
            or None).
        :return: the transaction.
        :raise UserError: Hesabe refused (the transaction is set to error).
        """
        mobile = customer.get("mobile")
        recipient = {"sms": mobile, "whatsapp": mobile, "email": customer.get("email")}.get(channel)
        tx = self.sudo().create({
            **document._posbridge_link_tx_values(),
            "provider_id": provider.id,
            "payment_method_id": self.env.ref("posbridge.payment_method_hesabe_link").id,
            "reference": document._posbridge_link_reference(provider),
            "amount": amount,
            "currency_id": document.currency_id.id,
            "partner_id": document._posbridge_link_partner().id,
            "operation": "offline",
            "posbridge_link_channel": channel,
            "posbridge_link_recipient": str(recipient) if recipient else False,
            "posbridge_link_mobile": mobile.number if mobile else False,
            "posbridge_link_country_code": mobile.country_code if mobile else False,
            "posbridge_link_expires": expires,
            "posbridge_customer_name": customer.get("name"),
            "posbridge_customer_email": customer.get("email") or False,
            "posbridge_customer_phone": str(mobile) if mobile else False,
        })
        tx._set_pending()
        tx._posbridge_toggle_cron()
        commit_unless_testing(self.env)  # a record to reconcile with, whatever happens next
        try:
            invoice = provider._posbridge_client().create_invoice(
                amount=tx._posbridge_amount(),
                customer_name=customer.get("name"),
                mobile_number=mobile.number if mobile else None,
                country_code=mobile.country_code if mobile else None,
                customer_email=customer.get("email"),
                reference_number=tx.reference,
                payment_types=provider._posbridge_link_payment_types(),
                description=document._posbridge_link_description(),
                expires_at=expires,
                language=language,
                webhook=provider._posbridge_link_webhook_url(),
                **hesabe.link_delivery(channel),
            )
        except posbridge.OutcomeUnknownError:
            tx.posbridge_outcome_unknown = True
            tx._posbridge_log(_("Hesabe's reply to the link %s was lost: press Check status before "
                                "anything else; nothing is resent on its own.", tx.reference))
            return tx
        except posbridge.Error as error:
            message = provider._posbridge_error_message(error)
            tx._set_error(message)
            commit_unless_testing(self.env)
            raise UserError(message) from None
        tx.sudo().write({
            "posbridge_invoice_id": str(invoice.id),
            "posbridge_link_token": invoice.token,
            "posbridge_link_url": invoice.url,
        })
        tx._posbridge_log(_("%(summary)s: %(url)s", summary=tx._posbridge_link_summary(), url=invoice.url))
        commit_unless_testing(self.env)
        tx._posbridge_notify()
        return tx

    # === WEBHOOKS OF THE SERIES' PIPELINE === #

    def _posbridge_apply_result(self, data):
        """Override: a link keeps the payment's token, which its refunds name."""
        if data.get("payment_token") and self.posbridge_link_channel:
            self.posbridge_payment_token = data["payment_token"]
        return super()._posbridge_apply_result(data)

    def _posbridge_check_status(self):
        """Override: remember when the vendor was last asked (links are asked at most so often)."""
        self.write({"posbridge_checked_at": fields.Datetime.now(), "posbridge_recheck": False})
        return super()._posbridge_check_status()
