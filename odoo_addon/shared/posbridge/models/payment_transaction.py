import logging
import uuid
from datetime import timedelta
from decimal import Decimal

import psycopg2

import posbridge
from posbridge import helcim

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module
from odoo.tools import float_repr
from odoo.tools.misc import format_amount

from .. import const

_logger = logging.getLogger(__name__)

#: How long after a local cancel or a timeout the vendor is still asked about a request, so
#: that a payment made on the device afterwards is recorded.
LATE_PAYMENT_WINDOW = timedelta(hours=24)


def commit_unless_testing(env):
    """Make what was written durable before talking to the vendor (a crash after sending then
    leaves a record to reconcile). Tests run inside one transaction that must not commit."""
    if not odoo_module.current_test:
        env.cr.commit()


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    posbridge_terminal_id = fields.Many2one(
        string="Terminal", comodel_name="posbridge.terminal", readonly=True, ondelete="restrict",
        index="btree_not_null",
    )
    posbridge_invoice_id = fields.Char(
        string="POS invoice", readonly=True, help="Hesabe's id of the POS invoice pushed to the terminal."
    )
    posbridge_idempotency_key = fields.Char(string="Idempotency key", readonly=True, copy=False)
    posbridge_card_type = fields.Char(string="Card type", readonly=True)
    posbridge_customer_name = fields.Char(string="Customer name", readonly=True)
    posbridge_customer_phone = fields.Char(string="Customer phone", readonly=True)
    posbridge_customer_email = fields.Char(string="Customer email", readonly=True)
    posbridge_sent_date = fields.Datetime(string="Sent to the terminal on", readonly=True)
    posbridge_outcome_unknown = fields.Boolean(
        string="Reply lost", readonly=True,
        help="The request left Odoo but its reply was lost: the vendor may have it. Check status "
        "finds it by reference; nothing is resent on its own.",
    )
    posbridge_watch_until = fields.Datetime(
        string="Watched until", readonly=True,
        help="After a local cancel, a timeout or a manual confirmation, the vendor is still asked "
        "about this request until then, so that a payment made on the device is recorded.",
    )
    posbridge_manual_reason = fields.Text(string="Marked paid because", readonly=True)
    posbridge_is_embedded = fields.Boolean(
        string="On the embedded sandbox", compute="_compute_posbridge_is_embedded", compute_sudo=True)

    # === COMPUTE METHODS === #

    @api.depends("provider_id.posbridge_environment")
    def _compute_posbridge_is_embedded(self):
        for tx in self:
            tx.posbridge_is_embedded = tx.provider_code in const.PROVIDER_CODES and (
                tx.provider_id.posbridge_environment == "embedded"
            )

    # === HELPERS === #

    def _posbridge_amount(self):
        """The amount as the vendor takes it: a Decimal with the currency's own decimals."""
        self.ensure_one()
        return Decimal(float_repr(abs(self.amount), self.currency_id.decimal_places))

    def _posbridge_amount_matches(self, amount, currency_name):
        self.ensure_one()
        if currency_name and currency_name.upper() != self.currency_id.name:
            return False
        return amount is not None and self.currency_id.compare_amounts(float(amount), abs(self.amount)) == 0

    def _posbridge_orders(self):
        return self.sale_order_ids or self.source_transaction_id.sale_order_ids

    def _posbridge_invoices(self):
        """The customer invoices a payment link of this transaction pays."""
        return self.invoice_ids or self.source_transaction_id.invoice_ids

    def _posbridge_log(self, message):
        for document in [*self._posbridge_orders(), *self._posbridge_invoices()]:
            document.message_post(body=message)

    def _posbridge_notify(self):
        """Tell the open forms of the orders and invoices that their terminal request or payment
        link moved on (bus)."""
        for tx in self:
            orders = tx._posbridge_orders()
            invoices = tx._posbridge_invoices()
            users = orders.user_id | invoices.invoice_user_id | tx.create_uid | self.env.user
            for partner in users.filtered(lambda u: not u.share).partner_id:
                self.env["bus.bus"]._sendone(partner, const.BUS_NOTIFICATION, {
                    "sale_order_ids": orders.ids, "invoice_ids": invoices.ids,
                    "transaction_id": tx.id, "state": tx.state,
                })

    def _get_sent_message(self):
        """Override of `payment`: say what was sent to which terminal."""
        if self.provider_code not in const.PROVIDER_CODES or self.operation == "refund" or self.posbridge_link_channel:
            return super()._get_sent_message()
        return _(
            "Sent %(amount)s to terminal %(terminal)s (%(provider)s), reference %(ref)s.",
            amount=format_amount(self.env, self.amount, self.currency_id),
            terminal=self.posbridge_terminal_id.display_name,
            provider=self.provider_id.name,
            ref=self.reference,
        )

    # === SENDING === #

    def _posbridge_send(self):
        """Push this pending transaction to its terminal, with its reference as the vendor's
        invoice number.

        A request whose reply is lost stays pending and is flagged for reconciliation; it is
        never resent on its own.

        :return: True when the vendor took the request, False when its reply was lost.
        :raise UserError: the vendor refused the request (the transaction is set to error).
        """
        self.ensure_one()
        provider = self.provider_id
        values = self._posbridge_pos_invoice_values()
        try:
            sent = provider._posbridge_start_purchase(
                self.posbridge_terminal_id, values["amount"], self.currency_id.name, self.reference,
                {"name": values["customer_name"], "email": values["customer_email"], "phone": values["customer_phone"]},
                description=values["description"], idempotency_key=self.posbridge_idempotency_key,
            )
            if sent["vendor_invoice_id"]:
                self.write({"posbridge_invoice_id": sent["vendor_invoice_id"], "provider_reference": sent["vendor_reference"]})
        except posbridge.OutcomeUnknownError:
            self.posbridge_outcome_unknown = True
            self._posbridge_log(_(
                "The reply of %(provider)s to %(ref)s was lost: the terminal may or may not show the "
                "request. Press Check status before anything else; nothing is resent on its own.",
                provider=provider.name, ref=self.reference,
            ))
            return False
        except posbridge.Error as error:
            message = provider._posbridge_error_message(error)
            self._set_error(message)
            commit_unless_testing(self.env)
            raise UserError(message) from None
        self._log_sent_message()
        return True

    def _posbridge_pos_invoice_values(self, terminal=None):
        """The Hesabe POS invoice of this transaction, for create and resend."""
        self.ensure_one()
        return {
            "terminal_id": (terminal or self.posbridge_terminal_id).vendor_ref,
            "amount": self._posbridge_amount(),
            "customer_name": self.posbridge_customer_name or self.partner_name or self.partner_id.name,
            "customer_email": self.posbridge_customer_email or None,
            "customer_phone": self.posbridge_customer_phone or None,
            "invoice_number": self.reference,
            "description": ", ".join(self.sale_order_ids.mapped("name")) or None,
        }

    def _posbridge_resend(self, terminal):
        """Push the same Hesabe POS invoice again, to the same or another terminal.

        :raise UserError: not a pending Hesabe request, or the vendor refused.
        """
        self.ensure_one()
        if self.provider_code != const.HESABE or self.state != "pending" or not self.provider_reference:
            raise UserError(_("Only a pending Hesabe POS invoice can be resent."))
        provider = self.provider_id
        try:
            provider._posbridge_client().resend_pos_invoice(
                transaction_id=self.provider_reference, **self._posbridge_pos_invoice_values(terminal)
            )
        except posbridge.Error as error:
            raise UserError(provider._posbridge_error_message(error)) from None
        self.write({"posbridge_terminal_id": terminal.id, "posbridge_sent_date": fields.Datetime.now()})
        self._posbridge_log(_("POS invoice %(ref)s resent to terminal %(terminal)s.",
                              ref=self.reference, terminal=terminal.display_name))
        self._posbridge_notify()

    # === STATUS === #

    def _posbridge_check_status(self):
        """Ask the vendor what became of each transaction and apply it (Check status, cron).

        :return: the transactions whose state changed.
        """
        changed = self.browse()
        for tx in self:
            before = tx.state
            try:
                result = tx._posbridge_lookup()
            except posbridge.Error as error:
                _logger.warning("posbridge: status of %s not known: %s", tx.reference, error)
                continue
            if result:
                tx._posbridge_apply(result)
            if tx.state != before:
                changed |= tx
        return changed

    def _posbridge_lookup(self):
        """The vendor's record of this transaction as notification data, or None if it has none.

        Found by the POS invoice id when Odoo has it, else by invoice number (the transaction
        reference), so that a request whose reply was lost is reconciled too.
        """
        self.ensure_one()
        client = self.provider_id._posbridge_client()
        if self.provider_code == const.HESABE and self.operation == "refund":
            refund = client.refund(self.provider_reference)
            return {
                "reference": self.reference,
                "outcome": const.HESABE_REFUND_STATE_MAPPING.get(refund.state, "unknown"),
                "vendor_state": refund.state,
                "amount": refund.amount,
                "currency": "KWD",
                "message": refund.remarks,
            }
        if self.posbridge_link_channel:
            return self._posbridge_link_data(client.invoice(self.posbridge_invoice_id))
        if self.operation == "refund":
            return self._posbridge_helcim_refund_lookup(client)
        return self.provider_id._posbridge_find_purchase(self.reference, self.posbridge_invoice_id)

    def _posbridge_helcim_refund_lookup(self, client):
        """A Helcim refund whose webhook or reply was lost: the refund card transaction of this
        amount under the purchase's invoice number that no other refund of it already holds."""
        source = self.source_transaction_id
        held = set((source.child_transaction_ids - self).mapped("provider_reference"))
        for card_transaction in client.find_card_transactions(source.reference):
            if (card_transaction.type in const.HELCIM_GIVE_BACK_TYPES and str(card_transaction.transaction_id) not in held
                    and self._posbridge_amount_matches(card_transaction.amount, card_transaction.currency)):
                return self.provider_id._posbridge_helcim_data(card_transaction)
        return None

    def _posbridge_apply(self, data):
        """Apply the vendor's result through the series' payment pipeline (which ends in
        `_posbridge_apply_result`), then post-process and tell the open forms."""
        self.ensure_one()
        self._posbridge_process(data)
        if self.state == "done" and not self.is_post_processed:
            self._posbridge_post_process()
        self._posbridge_notify()

    def _posbridge_apply_result(self, data):
        """Map the vendor's result to the transaction's state, checking amount and currency. A
        payment the vendor took is recorded even after a local cancel or timeout, and the
        order's chatter says so. Called by the series' payment pipeline (`series_payment_hooks`).
        """
        outcome = data.get("outcome")
        if data.get("vendor_reference"):
            self.provider_reference = data["vendor_reference"]
        if data.get("vendor_invoice_id") and not self.posbridge_invoice_id:
            self.posbridge_invoice_id = str(data["vendor_invoice_id"])
        if data.get("card_type"):
            self.posbridge_card_type = data["card_type"]
        self.posbridge_outcome_unknown = False  # the vendor's record is found
        if outcome == "pending" or (outcome == "unknown" and self.state == "pending"):
            if outcome == "unknown":
                _logger.warning("posbridge: %s reports state %r for %s", self.provider_id.name,
                                data.get("vendor_state"), self.reference)
            return
        self.posbridge_watch_until = False
        if outcome == "done":
            if not self._posbridge_amount_matches(data.get("amount"), data.get("currency")):
                message = _(
                    "%(provider)s reports %(amount)s %(currency)s paid for %(ref)s, but %(expected)s "
                    "was asked: check the payment on the vendor's dashboard.",
                    provider=self.provider_id.name, amount=data.get("amount"), currency=data.get("currency"),
                    ref=self.reference, expected=format_amount(self.env, abs(self.amount), self.currency_id),
                )
                self._set_error(message, extra_allowed_states=("cancel", "error"))
                self._posbridge_log(message)
                return
            if self.state == "done":
                if self.posbridge_manual_reason:
                    self._posbridge_log(_("%(provider)s confirms %(ref)s, marked paid by hand earlier.",
                                          provider=self.provider_id.name, ref=self.reference))
                return
            late = self.state == "cancel"
            self._set_done(extra_allowed_states=("cancel",))
            if late and self.posbridge_link_channel:
                self._posbridge_log(_(
                    "The Hesabe link %(ref)s was paid after it had been cancelled or had expired in "
                    "Odoo: the payment is recorded.", ref=self.reference))
            elif late:
                self._posbridge_log(_(
                    "%(ref)s was paid on the terminal after it had been cancelled in Odoo: the "
                    "payment is recorded.", ref=self.reference))
        elif outcome in ("error", "cancel") and self.state == "done" and self.posbridge_manual_reason:
            self._posbridge_log(_(
                "%(ref)s was marked paid by hand, but %(provider)s reports it %(state)s: check "
                "the payment.", ref=self.reference, provider=self.provider_id.name,
                state=data.get("vendor_state")))
        elif outcome == "error":
            self._set_error(data.get("message") or _(
                "The payment was declined on the terminal (%s).", data.get("vendor_state")))
        elif outcome == "cancel":
            if self.state != "cancel":  # a local cancel already said so
                self._set_canceled(_("The Hesabe link was cancelled at Hesabe.") if self.posbridge_link_channel
                                   else _("Cancelled on the terminal."))
        else:
            _logger.warning("posbridge: unknown outcome %r for %s", outcome, self.reference)

    def _posbridge_cancel_locally(self, reason):
        """Mark pending requests cancelled in Odoo; the vendor is still watched for a while, so
        that a payment made on the device anyway is recorded."""
        pending = self.filtered(lambda tx: tx.state == "pending")
        pending._set_canceled(reason)
        pending.write({"posbridge_watch_until": fields.Datetime.now() + LATE_PAYMENT_WINDOW})
        pending._posbridge_notify()
        return pending

    def _posbridge_mark_paid(self, reason):
        """A sales manager confirms a payment the vendor cannot be asked about; the next status
        checks still compare it with the vendor's record."""
        self.ensure_one()
        if self.state not in ("pending", "cancel", "error"):
            raise UserError(_("Only a pending, cancelled or failed terminal payment can be marked paid."))
        self._set_done(state_message=reason, extra_allowed_states=("cancel",))
        self.write({
            "posbridge_manual_reason": reason,
            "posbridge_watch_until": fields.Datetime.now() + LATE_PAYMENT_WINDOW,
        })
        self._posbridge_log(_("%(user)s marked %(ref)s paid: %(reason)s",
                              user=self.env.user.name, ref=self.reference, reason=reason))
        self._posbridge_post_process()
        self._posbridge_notify()

    # === POST-PROCESSING === #

    def _posbridge_post_process(self):
        """Post-process at once (there is no customer browser to do it): confirm the order,
        post the payment, invoice. The payment's new state is committed first: should this
        fail (a mail, a report), it stays, and Odoo's post-processing cron tries again, as
        after an online payment; Helcim's retry of the webhook is then a known delivery.

        `sale.order.amount_paid` depends on the transactions, not on their state, so a value
        read earlier in this request would hide the payment from the confirmation check."""
        commit_unless_testing(self.env)  # post-processing may commit (invoice mails) or fail
        self._posbridge_orders().invalidate_recordset(["amount_paid"])
        self._post_process()

    def _post_process(self):
        """Override of `sale`: a pending terminal request never mails the customer (who is at
        the counter); Odoo's cron would otherwise send "payment pending" mails again and again."""
        quiet = self.filtered(lambda tx: tx.provider_code in const.PROVIDER_CODES and tx.state == "pending")
        quiet.is_post_processed = True
        return super(PaymentTransaction, self - quiet)._post_process()

    # === CRON === #

    @api.model
    def _posbridge_cron_poll(self):
        """Poll the open terminal requests (Hesabe has no webhook; Helcim's may be lost), look up
        and cancel the ones past their provider's timeout, poll the open payment links (their
        webhook may be lost), and switch the cron off when nothing is left to watch."""
        now = fields.Datetime.now()
        watched = self.search(self._posbridge_watch_domain())
        for tx in watched:
            if tx.posbridge_link_channel:
                tx._posbridge_poll_link(now)
                commit_unless_testing(self.env)
                continue
            tx._posbridge_check_status()
            if tx.state == "pending" and tx.posbridge_sent_date:
                timeout = timedelta(minutes=tx.provider_id.posbridge_pending_timeout)
                if tx.posbridge_sent_date + timeout <= now:
                    tx._posbridge_cancel_locally(_(
                        "Not paid within %(minutes)s minutes: cancelled in Odoo. A payment made on the "
                        "terminal later is still recorded.", minutes=int(timeout.total_seconds() // 60)))
            elif tx.posbridge_watch_until and tx.posbridge_watch_until <= now:
                tx.posbridge_watch_until = False
            commit_unless_testing(self.env)
        self._posbridge_toggle_cron()

    @api.model
    def _posbridge_watch_domain(self):
        return [
            ("provider_code", "in", const.PROVIDER_CODES),
            "|", ("state", "=", "pending"), ("posbridge_watch_until", ">", fields.Datetime.now()),
        ]

    @api.model
    def _posbridge_has_watched(self):
        """Whether some request is open or watched (the Point of Sale's count too)."""
        return bool(self.sudo().search_count(self._posbridge_watch_domain(), limit=1))

    @api.model
    def _posbridge_toggle_cron(self):
        """The poller runs only while some terminal request is open or watched."""
        cron = self.env.ref("posbridge.cron_posbridge_poll", raise_if_not_found=False)
        if not cron:
            return
        active = self._posbridge_has_watched()
        if cron.active == active:
            return
        # Odoo refuses to write a running cron by rolling back the whole transaction: take
        # its row first, without waiting. A running poller switches itself as it ends.
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute("SELECT id FROM ir_cron WHERE id = %s FOR NO KEY UPDATE NOWAIT",
                                    (cron.id,), log_exceptions=False)
        except psycopg2.errors.LockNotAvailable:
            _logger.info("posbridge: the poller is running; it stays %s", "on" if cron.active else "off")
            return
        cron.sudo().active = active

    # === WEBHOOKS === #

    @api.model
    def _posbridge_handle_helcim_event(self, provider, event):
        """Act on a verified, first-seen Helcim webhook: it is a trigger only. The card
        transaction is fetched from Helcim and matched by invoice number, amount and currency.

        :return: the request it settled (a transaction, or what another addon registers through
            `_posbridge_request_by_reference`), possibly empty.
        """
        if isinstance(event, helcim.CardTransactionEvent):
            card_transaction = provider._posbridge_client().event_transaction(event)
            data = provider._posbridge_helcim_data(card_transaction)
            if card_transaction.type in const.HELCIM_GIVE_BACK_TYPES:
                tx = self._posbridge_refund_for(provider, card_transaction)
            else:
                tx = self._posbridge_request_by_reference(provider, data["reference"])
        elif isinstance(event, helcim.TerminalCancelEvent):
            data = {"outcome": "cancel", "reference": event.invoice_number}
            tx = self._posbridge_cancelled_on(provider, event)
        else:
            _logger.info("posbridge: Helcim event %s of type %r ignored", event.webhook_id, event.type)
            return self.browse()
        if not tx:
            _logger.info("posbridge: Helcim event %s names no transaction of %s (reference %r)",
                         event.webhook_id, provider.name, data.get("reference"))
            return tx
        tx._posbridge_apply(data)
        return tx

    @api.model
    def _posbridge_request_by_reference(self, provider, reference):
        """The request of `provider` whose reference (the vendor's invoice number) is
        `reference`: a transaction here; the Point of Sale's requests extend it."""
        return self.search([("reference", "=", reference or ""), ("provider_id", "=", provider.id)])

    @api.model
    def _posbridge_cancelled_on(self, provider, event):
        """The request a terminalCancel names: by invoice number, else the open one on its device."""
        if event.invoice_number:
            return self.search([("reference", "=", event.invoice_number), ("provider_id", "=", provider.id)])
        return self.search([
            ("provider_id", "=", provider.id), ("state", "=", "pending"),
            ("posbridge_terminal_id.vendor_ref", "=", (event.device_code or "").upper()),
        ], limit=1)

    @api.model
    def _posbridge_refund_for(self, provider, card_transaction):
        """The open refund a refund card transaction settles: of that amount, and of the
        purchase whose invoice number it carries when it carries one."""
        domain = [("provider_id", "=", provider.id), ("operation", "=", "refund"), ("state", "=", "pending")]
        if card_transaction.invoice_number:
            domain.append(("source_transaction_id.reference", "=", card_transaction.invoice_number))
        pending = self.search(domain, order="id")
        return pending.filtered(lambda tx: tx._posbridge_amount_matches(card_transaction.amount, card_transaction.currency))[:1]

    # === REFUNDS === #

    def _posbridge_refund_amount(self, amount_to_refund=None):
        """What a refund of this payment may take: the amount asked (all of it by default),
        never more than what is left after its other refunds.

        :raise UserError: more than what is left to refund.
        """
        self.ensure_one()
        amount = amount_to_refund or self.amount
        refunded = -sum(self.child_transaction_ids.filtered(
            lambda tx: tx.operation == "refund" and tx.state in ("pending", "done")).mapped("amount"))
        if self.currency_id.compare_amounts(refunded + amount, self.amount) > 0:
            raise UserError(_("%(ref)s: at most %(left)s is left to refund.", ref=self.reference,
                              left=format_amount(self.env, self.amount - refunded, self.currency_id)))
        return amount

    def _posbridge_send_refund(self):
        """Send this refund transaction through the vendor. Hesabe: the Merchant API refund
        request; Helcim: debit cards on the device, credit cards through the Payment API (all of
        a payment the same day: a reversal, `_posbridge_helcim_give_back`).

        :raise UserError: the vendor refused.
        """
        self.ensure_one()
        source = self.source_transaction_id
        self.posbridge_terminal_id = source.posbridge_terminal_id
        provider = self.provider_id
        client = provider._posbridge_client()
        amount = self._posbridge_amount()
        try:
            if self.provider_code == const.HESABE:
                refund = client.request_refund(source._posbridge_hesabe_refund_token(), amount)
                self.provider_reference = str(refund.id)
                self._set_pending(state_message=_(
                    "Refund request %s sent to Hesabe, waiting for its approval.", refund.id))
                self._posbridge_toggle_cron()
            elif (source.posbridge_card_type or "").upper() in ("IN", "DB"):
                client.refund(source.posbridge_terminal_id.vendor_ref, amount, int(source.provider_reference),
                              currency=self.currency_id.name)
                self.posbridge_sent_date = fields.Datetime.now()  # times out like a purchase on the device
                self._set_pending(state_message=_(
                    "Refund on terminal %s: the customer taps the original card.",
                    source.posbridge_terminal_id.display_name))
            else:
                self.posbridge_idempotency_key = str(uuid.uuid4())
                given_back = (source.child_transaction_ids - self).filtered(
                    lambda tx: tx.operation == "refund" and tx.state in ("pending", "done"))
                card_transaction = provider._posbridge_helcim_give_back(
                    int(source.provider_reference), amount,
                    whole=not given_back and self.currency_id.compare_amounts(abs(self.amount), source.amount) == 0,
                    currency=self.currency_id.name, ip_address=self._posbridge_ip_address(),
                    idempotency_key=self.posbridge_idempotency_key,
                )
                self.provider_reference = str(card_transaction.transaction_id)
                if card_transaction.is_approved:
                    self._set_done()
                else:
                    self._set_error(card_transaction.errors or _("Helcim declined the refund."))
        except posbridge.OutcomeUnknownError:
            self._set_pending(state_message=_("The refund's reply was lost; check it on the vendor's dashboard."))
        except posbridge.Error as error:
            raise UserError(provider._posbridge_error_message(error)) from None
        if self.state == "done":
            self._posbridge_post_process()

    def _posbridge_hesabe_refund_token(self):
        """The payment token of this paid Hesabe payment, which a refund request names: a payment
        link's, kept from its invoice when it was paid; a POS invoice's, the row of Hesabe's
        transaction report (service type 6, Smart POS) whose order reference is the POS invoice's
        transaction id.

        :raise UserError: Hesabe's report does not show the payment (yet).
        """
        self.ensure_one()
        if self.posbridge_payment_token:
            return self.posbridge_payment_token
        return self.provider_id._posbridge_hesabe_pos_token(self.provider_reference, self.reference)

    def _posbridge_ip_address(self):
        from odoo.http import request

        return (request and request.httprequest.remote_addr) or "127.0.0.1"

    # === SANDBOX === #

    def action_posbridge_simulate(self, outcome):
        """Play the customer at the terminal of the embedded sandbox: pays, declines, cancels;
        or pays a Hesabe link on the sandbox's payment page."""
        self.ensure_one()
        sandbox = self.provider_id._posbridge_sandbox()
        try:
            if self.posbridge_link_channel:
                if outcome != "paid":
                    raise UserError(_("On the sandbox, the customer of a Hesabe link can only pay it."))
                sandbox.hesabe_pay_invoice(self.sudo().posbridge_link_token)
            elif self.provider_code == const.HESABE:
                {"paid": sandbox.hesabe_pay, "declined": sandbox.hesabe_decline,
                 "cancelled": sandbox.hesabe_cancel}[outcome](self.provider_reference)
            else:
                helcim_outcome = {"paid": "approved", "declined": "declined", "cancelled": "cancelled"}[outcome]
                sandbox.helcim_complete(self.posbridge_terminal_id.vendor_ref, outcome=helcim_outcome)
        except posbridge.Error as error:
            raise UserError(_("The embedded sandbox refused: %s", error)) from None
        if self.provider_code == const.HESABE:
            self._posbridge_check_status()
        return True

    def action_posbridge_simulate_paid(self):
        return self.action_posbridge_simulate("paid")

    def action_posbridge_simulate_declined(self):
        return self.action_posbridge_simulate("declined")

    def action_posbridge_simulate_cancelled(self):
        return self.action_posbridge_simulate("cancelled")

    def action_posbridge_check_status(self):
        self._posbridge_check_status()
        return True
