import hashlib
import logging
import threading
import uuid

import posbridge
from posbridge import helcim, hesabe
from posbridge import sandbox as posbridge_sandbox

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import const

_logger = logging.getLogger(__name__)

#: posbridge clients per process, keyed by (database, provider id), each with a fingerprint of
#: its configuration so that an edited provider gets a new client. A Hesabe client keeps its
#: login token, so reusing it saves a login per request. posbridge clients are fork-safe.
_CLIENTS = {}
_CLIENTS_LOCK = threading.Lock()

#: Seconds a vendor call may take before it is reported as a timeout.
VENDOR_TIMEOUT = 10.0

SECRET = {"groups": "base.group_system", "copy": False}


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    code = fields.Selection(
        selection_add=[
            (const.HESABE, "Hesabe Smart POS"),
            (const.HELCIM, "Helcim Smart Terminal"),
        ],
        ondelete={const.HESABE: "set default", const.HELCIM: "set default"},
    )
    posbridge_environment = fields.Selection(
        string="Terminal environment",
        selection=[
            ("production", "Production"),
            ("vendor_sandbox", "Vendor's sandbox"),
            ("embedded", "Embedded sandbox"),
        ],
        default="vendor_sandbox",
        help="Production and the vendor's sandbox talk to the vendor; the embedded sandbox is "
        "the one `posbridge sandbox` runs on this machine, for trying the flow without an account.",
    )
    posbridge_sandbox_url = fields.Char(
        string="Embedded sandbox URL",
        help="The URL that `posbridge sandbox` prints, such as http://127.0.0.1:8070.",
    )
    posbridge_pending_timeout = fields.Integer(
        string="Cancel unpaid requests after (minutes)",
        default=const.DEFAULT_PENDING_TIMEOUT,
        help="A terminal request still unpaid after this time is looked up once more at the "
        "vendor, then cancelled with a note. A payment made later is still recorded.",
    )
    posbridge_terminal_ids = fields.One2many(
        string="Terminals", comodel_name="posbridge.terminal", inverse_name="provider_id"
    )
    posbridge_terminal_count = fields.Integer(string="Terminal count", compute="_compute_posbridge_terminal_count")

    # Hesabe (Merchant API credentials; the Smart POS calls use the same).
    hesabe_merchant_code = fields.Char(
        string="Merchant code", required_if_provider=const.HESABE, groups="base.group_system"
    )
    hesabe_access_code = fields.Char(string="Access code", required_if_provider=const.HESABE, **SECRET)
    hesabe_secret_key = fields.Char(string="Secret key", required_if_provider=const.HESABE, **SECRET)
    hesabe_iv = fields.Char(string="IV key", required_if_provider=const.HESABE, **SECRET)
    hesabe_username = fields.Char(
        string="Merchant panel user", required_if_provider=const.HESABE, groups="base.group_system"
    )
    hesabe_password = fields.Char(
        string="Merchant panel password", required_if_provider=const.HESABE, **SECRET
    )

    # Helcim
    helcim_api_token = fields.Char(string="API token", required_if_provider=const.HELCIM, **SECRET)
    helcim_verifier_token = fields.Char(
        string="Webhook verifier token",
        help="Shown by Helcim under All Tools > Integrations > Webhooks.",
        **SECRET,
    )
    helcim_currency = fields.Selection(
        string="Merchant currency",
        selection=[("CAD", "CAD"), ("USD", "USD")],
        default="CAD",
        help="The currency of the Helcim account; orders in another currency are refused.",
    )
    # Hesabe payment links (quick invoices of the Merchant API, with the same credentials)
    hesabe_link_enabled = fields.Boolean(
        string="Payment links",
        help="Salespeople and invoicing users may send a Hesabe payment link (SMS, WhatsApp, "
        "e-mail, or a link to share) from a quotation, a sale order or a customer invoice in KWD.",
    )
    hesabe_link_expiry_days = fields.Integer(
        string="Links expire after (days)", default=7,
        help="The link's expiry date proposed when one is sent; the user may change it.")
    hesabe_link_knet = fields.Boolean(string="KNET", default=True)
    hesabe_link_cards = fields.Boolean(string="Visa / Mastercard", default=True)
    hesabe_link_amex = fields.Boolean(string="American Express")
    hesabe_link_apple_pay = fields.Boolean(string="Apple Pay")
    posbridge_webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_posbridge_webhook_url",
        help="Paste it into Helcim under All Tools > Integrations > Webhooks (Deliver URL).",
    )

    # === COMPUTE METHODS === #

    def _compute_feature_support_fields(self):
        """Override of `payment`: terminal payments can be refunded in part."""
        super()._compute_feature_support_fields()
        self.filtered(lambda p: p.code in const.PROVIDER_CODES).update({"support_refund": "partial"})

    @api.depends("posbridge_terminal_ids")
    def _compute_posbridge_terminal_count(self):
        for provider in self:
            provider.posbridge_terminal_count = len(provider.posbridge_terminal_ids)

    @api.depends("code")
    def _compute_posbridge_webhook_url(self):
        for provider in self:
            if provider.code == const.HELCIM and provider.id:
                route = const.WEBHOOK_ROUTE.replace("<int:provider_id>", str(provider.id))
                provider.posbridge_webhook_url = provider.get_base_url().rstrip("/") + route
            else:
                provider.posbridge_webhook_url = False

    # === CONSTRAINT METHODS === #

    @api.constrains("hesabe_link_enabled", "hesabe_link_knet", "hesabe_link_cards", "hesabe_link_amex",
                    "hesabe_link_apple_pay", "hesabe_link_expiry_days")
    def _check_hesabe_links(self):
        for provider in self.filtered(lambda p: p.code == const.HESABE and p.hesabe_link_enabled):
            if not provider._posbridge_link_payment_types():
                raise ValidationError(_("%s: choose at least one payment method for the links.", provider.name))
            if provider.hesabe_link_expiry_days < 1:
                raise ValidationError(_("%s: links must be valid for at least a day.", provider.name))

    @api.constrains("posbridge_environment", "posbridge_sandbox_url", "code")
    def _check_posbridge_sandbox_url(self):
        for provider in self:
            if (
                provider.code in const.PROVIDER_CODES
                and provider.posbridge_environment == "embedded"
                and not (provider.posbridge_sandbox_url or "").startswith(("http://", "https://"))
            ):
                raise ValidationError(
                    _("%(provider)s: give the embedded sandbox's URL, as `posbridge sandbox` prints it.",
                      provider=provider.name)
                )

    # === BUSINESS METHODS === #

    @api.model
    def _get_compatible_providers(self, *args, **kwargs):
        """Override of `payment`: terminal providers never appear at online checkout or on the
        customer portal; they are driven from the sale order only."""
        providers = super()._get_compatible_providers(*args, **kwargs)
        return providers.filtered(lambda p: p.code not in const.PROVIDER_CODES)

    def _get_supported_currencies(self):
        """Override of `payment`: Hesabe settles in KWD, Helcim in the merchant's currency."""
        supported = super()._get_supported_currencies()
        if self.code not in const.PROVIDER_CODES:
            return supported
        return supported.filtered(lambda c: c.name in self._posbridge_currency_names())

    def _get_default_payment_method_codes(self):
        """Override of `payment`: every terminal payment uses the card-terminal method."""
        if self.code not in const.PROVIDER_CODES:
            return super()._get_default_payment_method_codes()
        if self.code == const.HESABE:
            return {const.PAYMENT_METHOD_CODE, const.LINK_PAYMENT_METHOD_CODE}
        return {const.PAYMENT_METHOD_CODE}

    def _posbridge_currency_names(self):
        self.ensure_one()
        if self.code == const.HELCIM:
            return (self.helcim_currency or "CAD",)
        return const.SUPPORTED_CURRENCIES[self.code]

    def _posbridge_check_currency(self, currency):
        """Refuse, before anything is sent, an amount in a currency the vendor does not take.

        :param currency: the order's currency, a `res.currency` record.
        :raise UserError: the vendor does not settle in that currency.
        """
        self.ensure_one()
        accepted = self._posbridge_currency_names()
        if currency.name not in accepted:
            raise UserError(
                _("%(provider)s takes payments in %(accepted)s only; this order is in %(currency)s. "
                  "Change the order's pricelist or use another payment method.",
                  provider=self.name, accepted=", ".join(accepted), currency=currency.name)
            )

    def _posbridge_link_payment_types(self):
        """The payment methods a link offers, as Hesabe's ``allocatePayType`` ids."""
        self.ensure_one()
        chosen = {"knet": self.hesabe_link_knet, "cards": self.hesabe_link_cards,
                  "amex": self.hesabe_link_amex, "apple_pay": self.hesabe_link_apple_pay}
        return [hesabe.PAYMENT_TYPES[name] for name, on in chosen.items() if on]

    def _posbridge_link_webhook_url(self):
        """Where Hesabe POSTs a link's webhook once it is paid."""
        self.ensure_one()
        route = const.HESABE_WEBHOOK_ROUTE.replace("<int:provider_id>", str(self.id))
        return self.get_base_url().rstrip("/") + route

    @api.model
    def _posbridge_link_provider(self, company):
        """The Hesabe provider of `company` that sends payment links, if any."""
        return self.sudo().search([
            ("code", "=", const.HESABE), ("state", "in", ("enabled", "test")),
            ("company_id", "=", company.id), ("hesabe_link_enabled", "=", True),
        ], limit=1)

    def _posbridge_is_embedded(self):
        self.ensure_one()
        return self.posbridge_environment == "embedded"

    def _posbridge_base_url(self):
        """The vendor root the client talks to; the one place environments become URLs."""
        self.ensure_one()
        if self.posbridge_environment == "embedded":
            root = (self.posbridge_sandbox_url or "").rstrip("/")
            return root if self.code == const.HESABE else root + "/v2"
        if self.code == const.HESABE:
            return hesabe.PRODUCTION_URL if self.posbridge_environment == "production" else hesabe.SANDBOX_URL
        # Helcim's developer test accounts live on the production host.
        return helcim.PRODUCTION_URL

    def _posbridge_client_settings(self):
        provider = self.sudo()
        base = {"base_url": provider._posbridge_base_url(), "timeout": VENDOR_TIMEOUT}
        if provider.code == const.HESABE:
            return {
                **base,
                "merchant_code": provider.hesabe_merchant_code or "",
                "access_code": provider.hesabe_access_code or "",
                "secret_key": provider.hesabe_secret_key or "",
                "iv": provider.hesabe_iv or "",
                "username": provider.hesabe_username or "",
                "password": provider.hesabe_password or "",
            }
        return {**base, "api_token": provider.helcim_api_token or "", "currency": provider.helcim_currency or "CAD"}

    def _posbridge_client(self):
        """The posbridge client of this provider, built once per process and configuration.

        :return: a `posbridge.hesabe.Client` or a `posbridge.helcim.Client`.
        :raise UserError: the provider's settings are incomplete or malformed.
        """
        self.ensure_one()
        if self.code not in const.PROVIDER_CODES:
            raise UserError(_("%s is not a card-terminal provider.", self.name))
        settings = self._posbridge_client_settings()
        fingerprint = hashlib.sha256(repr(sorted(settings.items())).encode()).hexdigest()
        key = (self.env.cr.dbname, self.id)
        with _CLIENTS_LOCK:
            cached = _CLIENTS.get(key)
        if cached and cached[0] == fingerprint:
            return cached[1]
        client_class = hesabe.Client if self.code == const.HESABE else helcim.Client
        try:
            client = client_class(**settings)
        except posbridge.Error as error:
            raise UserError(
                _("%(provider)s is not configured correctly: %(reason)s", provider=self.name, reason=str(error))
            ) from None
        with _CLIENTS_LOCK:
            _CLIENTS[key] = (fingerprint, client)
        return client

    def _posbridge_sandbox(self):
        """The embedded sandbox this provider points at, to play the customer at the terminal.

        :raise UserError: the provider talks to the vendor, not to the embedded sandbox.
        """
        self.ensure_one()
        if not self._posbridge_is_embedded():
            raise UserError(_("Only a provider on the embedded sandbox can simulate the customer."))
        return posbridge_sandbox.Remote(self.posbridge_sandbox_url)

    def _posbridge_not_listening_message(self):
        return _("The Helcim device is not listening: open the Helcim app on the device, then try again.")

    def _posbridge_error_message(self, error):
        """A vendor or transport error as a sentence for the user, with the vendor's message."""
        if isinstance(error, posbridge.DeviceNotListeningError):
            return self._posbridge_not_listening_message()
        if isinstance(error, posbridge.AuthError):
            return _("%(provider)s refused the credentials: %(message)s", provider=self.name, message=str(error))
        if isinstance(error, posbridge.RateLimitedError):
            return _("%(provider)s asks to slow down; try again in %(seconds)s s.",
                     provider=self.name, seconds=int(error.retry_after or 60))
        if isinstance(error, posbridge.TransportError):
            return _("%(provider)s could not be reached: %(message)s", provider=self.name, message=str(error))
        return _("%(provider)s: %(message)s", provider=self.name, message=str(error))

    # === ACTIONS === #

    def action_posbridge_test_connection(self):
        """Log in to Hesabe, or list Helcim's devices, and say how it went."""
        self.ensure_one()
        client = self._posbridge_client()
        try:
            if self.code == const.HESABE:
                client.login()
                message = _("Connected to Hesabe as merchant %s.", self.sudo().hesabe_merchant_code)
            else:
                devices = client.devices()
                message = _("Connected to Helcim. Devices on the account: %s.", len(devices))
        except posbridge.Error as error:
            raise UserError(self._posbridge_error_message(error)) from None
        return self._posbridge_notification(message, "success")

    def action_posbridge_sync_terminals(self):
        """Create the vendor's new terminals, update known ones, archive the ones it no longer
        lists (a terminal with transactions is never deleted)."""
        summary = self.env["posbridge.terminal"]._posbridge_sync(self)
        return self._posbridge_notification(summary, "success")

    def action_posbridge_view_terminals(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("posbridge.action_posbridge_terminal")
        action["domain"] = [("provider_id", "=", self.id)]
        action["context"] = {"default_provider_id": self.id, "active_test": False}
        return action

    def _posbridge_vendor_terminals(self):
        """The terminals the vendor lists for this account.

        :return: ``{vendor id: {"name": ..., "remarks": ...}}``.
        :raise UserError: the vendor could not be asked.
        """
        self.ensure_one()
        client = self._posbridge_client()
        try:
            if self.code == const.HESABE:
                return {
                    t.terminal_id: {
                        "name": t.terminal_name or t.terminal_id,
                        "remarks": " · ".join(r for r in (t.remark1, t.remark2) if r) or False,
                    }
                    for t in client.terminals()
                }
            return {d.code: {"name": d.code, "remarks": False} for d in client.devices()}
        except posbridge.Error as error:
            raise UserError(self._posbridge_error_message(error)) from None

    # === PURCHASES ON A TERMINAL (every kind of request: sale orders, the Point of Sale) === #

    def _posbridge_start_purchase(self, terminal, amount, currency_name, reference, customer,
                                  description=None, idempotency_key=None):
        """Ask `terminal` for `amount`, with `reference` as the vendor's invoice number: a Hesabe
        POS invoice, or a Helcim purchase on the device (sent once: a lost reply raises
        `posbridge.OutcomeUnknownError`, to reconcile by reference, never to resend).

        :param Decimal amount: with the currency's own decimals.
        :param dict customer: ``name``, ``email``, ``phone`` (Hesabe shows them).
        :return: ``{"vendor_invoice_id": ..., "vendor_reference": ...}`` (Hesabe's POS invoice
            id and transaction id; False for Helcim, which names the purchase by its reference).
        :raise posbridge.Error: the vendor refused, or could not be reached.
        """
        self.ensure_one()
        client = self._posbridge_client()
        if self.code == const.HESABE:
            invoice = client.create_pos_invoice(
                terminal_id=terminal.vendor_ref, amount=amount, customer_name=customer.get("name"),
                customer_email=customer.get("email") or None, customer_phone=customer.get("phone") or None,
                invoice_number=reference, description=description or None,
            )
            return {"vendor_invoice_id": str(invoice.id), "vendor_reference": invoice.transaction_id}
        client.purchase(terminal.vendor_ref, amount, currency_name, invoice_number=reference,
                        idempotency_key=idempotency_key)
        return {"vendor_invoice_id": False, "vendor_reference": False}

    def _posbridge_find_purchase(self, reference, vendor_invoice_id=None):
        """The vendor's record of a purchase as notification data, or None if it has none: by
        Hesabe's POS invoice id when known, else by invoice number (a request whose reply was
        lost is reconciled too).

        :raise posbridge.Error: the vendor could not be asked.
        """
        self.ensure_one()
        client = self._posbridge_client()
        if self.code == const.HESABE:
            if vendor_invoice_id:
                invoice = client.pos_invoice(vendor_invoice_id)
            else:
                invoice = client.find_pos_invoice(invoice_number=reference)
            return invoice and self._posbridge_hesabe_data(invoice, reference)
        # the purchase, not a refund or reversal of it (they carry its invoice number too)
        found = [t for t in client.find_card_transactions(reference) if t.type not in const.HELCIM_GIVE_BACK_TYPES]
        approved = [t for t in found if t.is_approved]
        chosen = (approved or found)[-1:] or [None]
        return chosen[0] and self._posbridge_helcim_data(chosen[0])

    @api.model
    def _posbridge_hesabe_data(self, invoice, reference=None):
        """A Hesabe POS invoice as notification data."""
        return {
            "reference": invoice.invoice_number or reference,
            "outcome": const.HESABE_STATE_MAPPING.get(invoice.state, "unknown"),
            "vendor_state": invoice.state,
            "amount": invoice.amount,
            "currency": "KWD",
            "vendor_reference": invoice.transaction_id,
            "vendor_invoice_id": invoice.id,
        }

    @api.model
    def _posbridge_helcim_data(self, card_transaction):
        """A Helcim card transaction as notification data."""
        return {
            "reference": card_transaction.invoice_number,
            "outcome": "done" if card_transaction.is_approved else "error",
            "vendor_state": card_transaction.status,
            "amount": card_transaction.amount,
            "currency": card_transaction.currency,
            "vendor_reference": str(card_transaction.transaction_id),
            "card_type": card_transaction.card_type,
            "message": card_transaction.errors,
            "type": card_transaction.type,
        }

    def _posbridge_helcim_give_back(self, transaction_id, amount, whole, *, currency, ip_address, idempotency_key):
        """Give part or all of a Helcim credit-card payment back without the card: all of it by a
        reversal while its batch is still open (the same day: Helcim refunds settled payments
        only), else a refund through the Payment API. A reversal Helcim refuses (400: the batch
        has settled) moved nothing, and the refund follows. Each request has its own
        idempotency key, derived from `idempotency_key`.

        :param bool whole: `amount` is all of the payment and nothing of it was given back yet.
        :return: the reversal's or the refund's card transaction.
        :raise posbridge.Error: Helcim refused the refund, or the reply was lost.
        """
        self.ensure_one()
        client = self._posbridge_client()
        if whole:
            try:
                return client.reverse_payment(transaction_id, ip_address,
                                              idempotency_key=str(uuid.uuid5(uuid.NAMESPACE_OID, idempotency_key)))
            except posbridge.ApiError as error:
                if error.status_code != 400:
                    raise
                _logger.info("posbridge: Helcim did not reverse transaction %s (%s); refunding it",
                             transaction_id, error.message)
        return client.refund_payment(transaction_id, amount, ip_address=ip_address, currency=currency,
                                     idempotency_key=idempotency_key)

    def _posbridge_hesabe_pos_token(self, transaction_id, reference):
        """The payment token of a paid Hesabe POS invoice, which a refund request names: the row
        of Hesabe's transaction report (service type 6, Smart POS) whose order reference is the
        POS invoice's transaction id.

        :param reference: Odoo's reference of the payment, for the error message.
        :raise UserError: Hesabe's report does not show the payment (yet).
        """
        self.ensure_one()
        rows = self._posbridge_client().transactions(service_type=6, search=transaction_id).items
        tokens = [row.token for row in rows if row.order_reference_number == transaction_id and row.token]
        if not tokens:
            raise UserError(_("Hesabe's transaction report does not show the payment of %s yet; "
                              "try the refund again in a few minutes.", reference))
        return tokens[0]

    def _posbridge_notification(self, message, kind="info", sticky=False):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": sticky,
                       "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    # === DEMO === #

    @api.model
    def _posbridge_setup_demo(self, sandbox_url="http://127.0.0.1:8070"):
        """Point both terminal providers at the embedded sandbox with its public credentials and
        sync their terminals when the sandbox is running (demo data)."""
        currency = self.env.ref("base.KWD")
        hesabe_provider = self.env.ref("posbridge.payment_provider_hesabe_pos")
        helcim_provider = self.env.ref("posbridge.payment_provider_helcim_terminal")
        common = {"state": "test", "posbridge_environment": "embedded", "posbridge_sandbox_url": sandbox_url}
        hesabe_provider.write({**common, "hesabe_link_enabled": True,
                               **{f"hesabe_{k}": v for k, v in posbridge_sandbox.HESABE_CREDENTIALS.items()}})
        helcim_provider.write({
            **common,
            "helcim_api_token": posbridge_sandbox.HELCIM_API_TOKEN,
            "helcim_verifier_token": posbridge_sandbox.HELCIM_VERIFIER_TOKEN,
            "helcim_currency": "CAD",
        })
        currency.active = True
        try:
            posbridge_sandbox.Remote(sandbox_url).helcim_webhook_url = helcim_provider.posbridge_webhook_url
        except posbridge.Error as error:
            _logger.warning("posbridge demo: the sandbox's Helcim webhooks do not reach Odoo (%s)", error)
        for provider in hesabe_provider | helcim_provider:
            try:
                provider.action_posbridge_sync_terminals()
            except UserError as error:
                _logger.warning("posbridge demo: terminals of %s not synced (%s); start `posbridge "
                                "sandbox --port 8070` and press Sync terminals", provider.name, error)
