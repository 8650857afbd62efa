from datetime import timedelta

import posbridge
from posbridge import hesabe

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize

from .. import const


def kuwait_today():
    """Hesabe's date (links expire by Kuwait's calendar, UTC+3 all year)."""
    return (fields.Datetime.now() + timedelta(hours=3)).date()


class PosbridgeLinkWizard(models.TransientModel):
    _name = "posbridge.link.wizard"
    _description = "Send a Hesabe payment link"

    sale_order_id = fields.Many2one("sale.order", readonly=True, ondelete="cascade")
    invoice_id = fields.Many2one("account.move", readonly=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", compute="_compute_document", store=True)
    currency_id = fields.Many2one("res.currency", compute="_compute_document", store=True)
    amount = fields.Monetary(currency_field="currency_id", required=True)
    amount_max = fields.Monetary(string="Left to pay", currency_field="currency_id", readonly=True)
    channel = fields.Selection(
        selection=const.LINK_CHANNELS, string="Send by", required=True, default="sms",
        help="SMS, WhatsApp and e-mail: Hesabe sends the link to the customer. A link to share: "
        "copy it from the order or invoice and send it yourself.",
    )
    customer_name = fields.Char(required=True)
    mobile = fields.Char(string="Mobile", help="Kuwait or another Gulf state, e.g. +965 5000 1234.")
    email = fields.Char(string="E-mail")
    expires = fields.Date(string="Expires on", required=True, help="The last day the customer can pay (Kuwait time).")
    language = fields.Selection([("ar", "Arabic"), ("en", "English")], string="Language", required=True, default="en")
    open_link = fields.Char(string="Open link", readonly=True)
    replace = fields.Boolean(
        string="Replace the open link",
        help="Hesabe cancels the open link first; if the customer has paid it meanwhile, nothing new is sent.",
    )

    @api.depends("sale_order_id", "invoice_id")
    def _compute_document(self):
        for wizard in self:
            document = wizard._document()
            wizard.company_id = document.company_id
            wizard.currency_id = document.currency_id

    def _document(self):
        return self.sale_order_id or self.invoice_id

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model = self.env.context.get("active_model")
        if model not in ("sale.order", "account.move"):
            return values
        document = self.env[model].browse(self.env.context.get("active_id")).exists()
        if not document:
            return values
        partner = document._posbridge_link_partner()
        provider = self.env["payment.provider"]._posbridge_link_provider(document.company_id)
        phone = partner.phone or ("mobile" in partner._fields and partner.mobile) or False
        open_tx = document.sudo().posbridge_link_transaction_id
        values.update({
            "sale_order_id" if model == "sale.order" else "invoice_id": document.id,
            "amount": document._posbridge_link_proposed_amount(),
            "amount_max": document._posbridge_link_left(),
            "customer_name": partner.name,
            "mobile": phone,
            "email": partner.email or False,
            "channel": "sms" if phone else "email" if partner.email else "url",
            "expires": kuwait_today() + timedelta(days=provider.hesabe_link_expiry_days or 7),
            "language": "ar" if (partner.lang or "").startswith("ar") else "en",
            "open_link": open_tx._posbridge_link_summary() if open_tx else False,
        })
        return values

    def _customer(self):
        """The customer's details as Hesabe takes them, checked before anything is created.

        :raise UserError: a detail the channel needs is missing or malformed.
        """
        self.ensure_one()
        partner = self._document()._posbridge_link_partner()
        gulf = partner.country_id.phone_code and str(partner.country_id.phone_code)
        country = gulf if gulf in hesabe.GCC_MOBILE else "965"
        mobile = None
        if self.channel in ("sms", "whatsapp") or (self.mobile or "").strip():
            try:
                mobile = hesabe.parse_mobile(self.mobile or "", default_country=country)
            except posbridge.ValidationError as error:
                raise UserError(_("Check the customer's mobile number: %s", error)) from None
        email = (self.email or "").strip() or None
        if email and not email_normalize(email):
            raise UserError(_("Check the customer's e-mail: %s is not an e-mail address.", email))
        if self.channel == "email" and not email:
            raise UserError(_("An e-mail address is needed to send the link by e-mail."))
        name = (self.customer_name or "").strip()
        if not name:
            raise UserError(_("The customer's name is needed."))
        if self.expires < kuwait_today():
            raise UserError(_("The link cannot expire in the past."))
        return {"name": name, "email": email, "mobile": mobile}

    def action_send(self):
        """Send the link (and replace the open one if asked), then go back to the document."""
        self.ensure_one()
        customer = self._customer()
        self._document()._posbridge_send_link(
            self.amount, self.channel, customer, self.expires, self.language, replace=self.replace)
        return {"type": "ir.actions.act_window_close"}
