"""One request of a Point of Sale payment line to a Hesabe or Helcim terminal: a server-side
record, so that nothing depends on the cashier's browser staying open. It is not a
`payment.transaction`: the POS books its payments at session close, through the payment
method's journal, and a transaction would book them a second time."""

import itertools
import logging
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import posbridge
import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr

from odoo.addons.posbridge import const
from odoo.addons.posbridge.models.payment_transaction import LATE_PAYMENT_WINDOW, commit_unless_testing

_logger = logging.getLogger(__name__)

#: The POS asks about an open request every few seconds, from any number of tabs: the vendor is
#: asked at most this often per request. Hesabe has no POS webhook: polling is its channel.
#: Helcim's signed webhook is the channel there, a look-up only the fallback for a lost one.
LOOKUP_INTERVAL = {const.HESABE: timedelta(seconds=2.5), const.HELCIM: timedelta(seconds=15)}
#: However many registers wait at once, a provider's look-ups stay under this many per second:
#: Helcim allows 100 a minute and 3000 an hour per account (0.75/s is 2700 an hour); Hesabe
#: publishes no limit for its POS API, 2 a second keeps it gentle.
MAX_LOOKUPS_PER_S = {const.HESABE: 2.0, const.HELCIM: 0.75}
#: What the POS sees of a request: open, or the vendor's final answer.
OPEN_STATES = ("sending", "pending")
#: A refund counts against what is left to refund of its payment in these states.
REFUND_HOLDING_STATES = ("sending", "pending", "requested", "done")
#: Helcim's debit cards (Interac, debit) refund on the device, with the card; credit cards
#: through the Payment API.
HELCIM_DEBIT_CARDS = ("IN", "DB")
#: What the vendors get of a POS order's receipt number: its ASCII end ("00042-001-0001" on
#: 18.0, "261-3-000012" on 19.0; any word the POS puts before it is translated).
ORDER_REFERENCE = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,39}$")
#: The unique index on the request's name (its vendor invoice number).
NAME_INDEX = "posbridge_pos_request_name"


class PosbridgePosRequest(models.Model):
    _name = "posbridge.pos.request"
    _description = "Point of Sale terminal request"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, index=True,
        help="The vendor's invoice number for this request: the POS order's receipt number and the "
        "request's number on that order. Hesabe's and Helcim's reports show it.",
    )
    state = fields.Selection(
        [("sending", "Sending"), ("pending", "Waiting on the terminal"),
         ("requested", "Refund awaiting Hesabe's approval"), ("done", "Paid"),
         ("declined", "Declined"), ("cancelled", "Cancelled"), ("error", "Error")],
        default="sending", required=True, readonly=True, index=True,
    )
    kind = fields.Selection([("payment", "Payment"), ("refund", "Refund")], default="payment",
                            required=True, readonly=True)
    original_id = fields.Many2one(
        "posbridge.pos.request", string="Refund of", readonly=True, index="btree_not_null",
        help="The payment this request refunds (on the terminal for a Helcim debit card, through "
        "the vendor's API otherwise).")
    refund_ids = fields.One2many("posbridge.pos.request", "original_id", string="Refunds", readonly=True)
    config_id = fields.Many2one("pos.config", string="Register", required=True, readonly=True, index=True)
    session_id = fields.Many2one("pos.session", string="Session", required=True, readonly=True, index=True)
    payment_method_id = fields.Many2one("pos.payment.method", string="Payment method", required=True, readonly=True)
    terminal_id = fields.Many2one("posbridge.terminal", string="Terminal", required=True, readonly=True,
                                  ondelete="restrict", index=True)
    provider_id = fields.Many2one(related="terminal_id.provider_id", store=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(currency_field="currency_id", required=True, readonly=True)
    order_uuid = fields.Char(string="POS order", readonly=True)
    order_name = fields.Char(string="Order", readonly=True)
    line_uuid = fields.Char(string="Payment line", required=True, readonly=True)
    attempt = fields.Integer(default=1, required=True, readonly=True)
    idempotency_key = fields.Char(readonly=True, copy=False)
    vendor_invoice_id = fields.Char(string="Hesabe POS invoice", readonly=True)
    vendor_reference = fields.Char(string="Vendor reference", readonly=True,
                                   help="Hesabe's transaction id, or Helcim's card transaction id.")
    card_type = fields.Char(readonly=True)
    message = fields.Char(string="Vendor's message", readonly=True)
    outcome_unknown = fields.Boolean(
        string="Reply lost", readonly=True,
        help="The request left Odoo but its reply was lost: the vendor may have it. It is looked up "
        "by reference; nothing is resent on its own.")
    sent_date = fields.Datetime(string="Sent on", readonly=True)
    last_check = fields.Datetime(string="Last asked the vendor", readonly=True)
    watch_until = fields.Datetime(
        string="Watched until", readonly=True,
        help="After a cancel or a forced payment, the vendor is still asked until then, so that a "
        "payment made on the device is recorded.")
    pos_payment_id = fields.Many2one(
        "pos.payment", string="POS payment", readonly=True, index="btree_not_null",
        help="The payment line of the synced POS order that this request paid.")
    to_review = fields.Boolean(
        compute="_compute_to_review", store=True,
        help="Paid at the vendor, but no POS payment records it (a late payment, a closed tab, a "
        "deleted line): a manager records or refunds it.")
    late_payment = fields.Boolean(
        readonly=True, help="The vendor reported it paid after it had been cancelled in Odoo.")
    forced_by_id = fields.Many2one("res.users", string="Forced done by", readonly=True)
    forced_date = fields.Datetime(string="Forced done on", readonly=True)
    forced_reason = fields.Char(string="Forced done because", readonly=True)

    @api.depends("state", "pos_payment_id", "late_payment", "kind", "vendor_invoice_id")
    def _compute_to_review(self):
        for request in self:
            request.to_review = (
                (request.state == "done" and (request.late_payment or not request.pos_payment_id))
                # a refund Hesabe rejected after the POS had settled it (requested: it has an id)
                or (request.kind == "refund" and request.state == "error" and bool(request.vendor_invoice_id))
            )

    def init(self):
        """Sending is idempotent: one request per payment line and attempt (a browser that lost
        Odoo's reply sends the same line and attempt again and gets this request back)."""
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS posbridge_pos_request_line_attempt"
            " ON posbridge_pos_request (line_uuid, attempt)"
        )
        self.env.cr.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {NAME_INDEX} ON posbridge_pos_request (name)"
        )

    # === HELPERS === #

    def _vendor_amount(self):
        """The amount as the vendor takes it: a Decimal with the currency's own decimals."""
        self.ensure_one()
        return Decimal(float_repr(abs(self.amount), self.currency_id.decimal_places))

    def _amount_matches(self, amount, currency_name):
        self.ensure_one()
        if currency_name and currency_name.upper() != self.currency_id.name:
            return False
        return amount is not None and self.currency_id.compare_amounts(float(amount), abs(self.amount)) == 0

    def _pos_answer(self):
        """What the POS reads of this request (no secrets, no vendor bodies)."""
        self.ensure_one()
        return {
            "reference": self.name,
            "kind": self.kind,
            # a requested Hesabe refund is settled for the POS: Hesabe approves it later, the
            # cron follows it and a rejection is put before the manager
            "state": "done" if self.state == "requested" else self.state,
            "amount": self.amount,
            "terminal": self.terminal_id.name,
            "message": self.message or False,
            "outcome_unknown": self.outcome_unknown,
            "card_type": self.card_type or False,
            "vendor_reference": self.vendor_reference or False,
            "forced": bool(self.forced_by_id),
            "receipt": self._receipt_text() if self.state in ("done", "requested") else False,
        }

    def _receipt_text(self):
        """The short text the POS prints under the payment line: terminal, card, references."""
        self.ensure_one()
        lines = [_("Terminal: %s", self.terminal_id.name), _("Reference: %s", self.name)]
        if self.kind == "refund":
            lines.append(_("Refund of %s", self.original_id.name))
        if self.state == "requested":
            lines.append(_("Refund requested: Hesabe approves it within a few days"))
        if self.card_type:
            lines.append(_("Card: %s", self.card_type))
        if self.vendor_reference:
            lines.append(_("%(provider)s transaction: %(ref)s", provider=self.provider_id.name, ref=self.vendor_reference))
        if self.forced_by_id:
            lines.append(_("Forced done by %s", self.forced_by_id.name))
        return "\n".join(lines)

    def _notify_register(self):
        """Tell the register's open POS that this request moved on. The POS channel is
        protected by its name only, so the message carries the reference and nothing else: the
        POS asks for the rest over RPC."""
        for request in self:
            request.config_id._notify(const.POS_BUS_NOTIFICATION, {"reference": request.name})

    # === SENDING === #

    @api.model
    def _create_for_order(self, vals, config, order_name):
        """Create a request named after its POS order: the order's receipt number and the
        request's place among that order's requests (``00042-001-0001-1``, then ``-2`` for a
        retry or a second card), as Odoo numbers a sale order's transactions. The name is the
        vendor's invoice number: Helcim files the payment under it, Hesabe's reports show it,
        and the merchant finds the order from either. A line without a usable receipt number,
        or whose name another line of the order has just taken in a transaction this one cannot
        see yet, is numbered by the ``PBP-`` sequence instead."""
        match = ORDER_REFERENCE.search((order_name or "").strip())
        base = match.group() if match and any(c.isdigit() for c in match.group()) else None
        if base:
            name = next(f"{base}-{n}" for n in itertools.count(1) if not self._name_taken(f"{base}-{n}"))
            try:
                with self.env.cr.savepoint():
                    return self.create({**vals, "name": name})
            except psycopg2.errors.UniqueViolation as error:
                if error.diag.constraint_name != NAME_INDEX:
                    raise
        return self.create({**vals, "name": self._next_reference(config)})

    @api.model
    def _name_taken(self, name):
        """Whether a request has this name: an equality on the unique index (an order has a
        request or two; a prefix search could not use that index under the database's usual
        collations, and would read every request the shop ever made)."""
        return bool(self.search_count([("name", "=", name)], limit=1))

    @api.model
    def _next_reference(self, config):
        return self.env["ir.sequence"].with_company(config.company_id).next_by_code("posbridge.pos.request") \
            or f"PBP-{config.id}-{uuid.uuid4().hex[:8]}"

    def _send(self, customer):
        """Push this request to its terminal, with its reference as the vendor's invoice number
        (sent once: a lost reply leaves it pending and flagged, to be found by reference)."""
        self.ensure_one()
        provider = self.provider_id
        try:
            sent = provider._posbridge_start_purchase(
                self.terminal_id, self._vendor_amount(), self.currency_id.name, self.name, customer,
                description=self.order_name, idempotency_key=self.idempotency_key,
            )
        except posbridge.OutcomeUnknownError:
            self.write({"state": "pending", "outcome_unknown": True, "sent_date": fields.Datetime.now()})
            return
        except posbridge.Error as error:
            self.write({"state": "error", "message": provider._posbridge_error_message(error)})
            return
        self.write({"state": "pending", "sent_date": fields.Datetime.now(),
                    "vendor_invoice_id": sent["vendor_invoice_id"], "vendor_reference": sent["vendor_reference"]})

    def _send_refund(self):
        """Refund part or all of the original payment through its vendor: Hesabe's Merchant API
        refund request (Hesabe approves it later), a Helcim debit card on the device (the customer
        taps the original card), a Helcim credit card through the Payment API (at once; all of it
        the same day: a reversal, `_posbridge_helcim_give_back`). Sent
        once: a lost reply leaves it pending, flagged, looked up by the original's reference."""
        self.ensure_one()
        original = self.original_id
        provider = self.provider_id
        client = provider._posbridge_client()
        amount = self._vendor_amount()
        try:
            if provider.code == const.HESABE:
                token = provider._posbridge_hesabe_pos_token(original.vendor_reference, original.name)
                refund = client.request_refund(token, amount)
                self.write({"state": "requested", "sent_date": fields.Datetime.now(),
                            "vendor_invoice_id": str(refund.id), "message": _(
                                "Refund request %s sent to Hesabe: Hesabe approves it within a few days; "
                                "Odoo follows it and tells the manager if Hesabe rejects it.", refund.id)})
            elif original._refunds_on_the_device():
                client.refund(self.terminal_id.vendor_ref, amount, int(original.vendor_reference),
                              currency=self.currency_id.name, idempotency_key=self.idempotency_key)
                self.write({"state": "pending", "sent_date": fields.Datetime.now()})
            else:
                given_back = (original.refund_ids - self).filtered(lambda r: r.state in REFUND_HOLDING_STATES)
                card_transaction = provider._posbridge_helcim_give_back(
                    int(original.vendor_reference), amount,
                    whole=not given_back and self.currency_id.compare_amounts(abs(self.amount), abs(original.amount)) == 0,
                    currency=self.currency_id.name, ip_address=self._ip_address(), idempotency_key=self.idempotency_key)
                self.write({"sent_date": fields.Datetime.now()})
                self._posbridge_apply(provider._posbridge_helcim_data(card_transaction))
        except posbridge.OutcomeUnknownError:
            self.write({"state": "pending", "outcome_unknown": True, "sent_date": fields.Datetime.now()})
        except (posbridge.Error, UserError) as error:
            message = provider._posbridge_error_message(error) if isinstance(error, posbridge.Error) else str(error)
            self.write({"state": "error", "message": message})

    @staticmethod
    def _ip_address():
        from odoo.http import request

        return (request and request.httprequest.remote_addr) or "127.0.0.1"

    def _refunds_on_the_device(self):
        """Whether a refund of this payment needs the card on a terminal (a Helcim debit card)."""
        self.ensure_one()
        return self.provider_id.code == const.HELCIM and (self.card_type or "").upper() in HELCIM_DEBIT_CARDS

    def _refundable(self):
        """What is left to refund of this payment (its refunds under way or done count)."""
        self.ensure_one()
        held = sum(self.refund_ids.filtered(lambda r: r.state in REFUND_HOLDING_STATES).mapped("amount"))
        return self.currency_id.round(abs(self.amount) - abs(held))

    # === STATUS === #

    def _lookup_interval(self):
        """How long this request waits between two look-ups at its vendor: its provider's
        interval, stretched when so many requests wait at once that the provider's rate would
        exceed MAX_LOOKUPS_PER_S."""
        self.ensure_one()
        code = self.provider_id.code
        waiting = self.search_count([("provider_id", "=", self.provider_id.id), ("state", "in", OPEN_STATES)])
        return max(LOOKUP_INTERVAL[code], timedelta(seconds=waiting / MAX_LOOKUPS_PER_S[code]))

    def _check_status(self, force=False):
        """Ask the vendor about each open or watched request (at most every `_lookup_interval`
        since it was sent or last asked, unless `force`) and apply its answer."""
        now = fields.Datetime.now()
        for request in self:
            last = request.last_check or request.sent_date
            if not force and last and last + request._lookup_interval() > now:
                continue
            request.last_check = now
            try:
                data = request._lookup()
            except posbridge.Error as error:
                _logger.warning("posbridge: status of %s not known: %s", request.name, error)
                continue
            if data:
                request._posbridge_apply(data)

    def _lookup(self):
        """The vendor's record of this request as notification data, or None."""
        self.ensure_one()
        provider = self.provider_id
        if self.kind == "payment":
            return provider._posbridge_find_purchase(self.name, self.vendor_invoice_id)
        client = provider._posbridge_client()
        if provider.code == const.HESABE:
            if not self.vendor_invoice_id:
                return None
            refund = client.refund(self.vendor_invoice_id)
            return {"outcome": const.HESABE_REFUND_STATE_MAPPING.get(refund.state, "unknown"),
                    "vendor_state": refund.state, "amount": refund.amount, "currency": "KWD",
                    "message": refund.remarks}
        # Helcim: the refund card transaction under the original's invoice number, of this
        # amount, that no other refund of it holds
        held = set((self.original_id.refund_ids - self).mapped("vendor_reference"))
        for card_transaction in client.find_card_transactions(self.original_id.name):
            if (card_transaction.type in const.HELCIM_GIVE_BACK_TYPES and str(card_transaction.transaction_id) not in held
                    and self._amount_matches(card_transaction.amount, card_transaction.currency)):
                return provider._posbridge_helcim_data(card_transaction)
        return None

    def _posbridge_apply(self, data):
        """Apply the vendor's result (a lookup, or a Helcim webhook) and tell the register. A
        payment the vendor took is recorded even after a cancel, and flagged."""
        self.ensure_one()
        outcome = data.get("outcome")
        values = {"outcome_unknown": False}
        if data.get("vendor_reference"):
            values["vendor_reference"] = data["vendor_reference"]
        if data.get("vendor_invoice_id") and not self.vendor_invoice_id:
            values["vendor_invoice_id"] = str(data["vendor_invoice_id"])
        if data.get("card_type"):
            values["card_type"] = data["card_type"]
        before = self.state
        if outcome == "done":
            if not self._amount_matches(data.get("amount"), data.get("currency")):
                values.update(state="error", message=_(
                    "%(provider)s reports %(amount)s %(currency)s paid for %(ref)s, but %(expected)s %(currency)s "
                    "was asked: check the payment on the vendor's dashboard.", provider=self.provider_id.name,
                    amount=data.get("amount"), currency=data.get("currency"), ref=self.name,
                    expected=self._vendor_amount()))
            else:
                values.update(state="done", late_payment=before == "cancelled", watch_until=False)
                if before == "requested":
                    values["message"] = _("Hesabe approved the refund.")
        elif outcome == "error" and before == "requested":
            values.update(state="error", message=_(
                "Hesabe rejected the refund %(ref)s of %(amount)s KWD (%(remarks)s): refund the customer "
                "another way.", ref=self.name, amount=self._vendor_amount(), remarks=data.get("message") or "-"))
        elif outcome == "error" and before in OPEN_STATES:
            values.update(state="declined", message=data.get("message") or _(
                "The payment was declined on the terminal (%s).", data.get("vendor_state")))
        elif outcome == "cancel" and before in OPEN_STATES:
            values.update(state="cancelled", message=_("Cancelled on the terminal."))
        if values.get("late_payment"):
            values["message"] = _(
                "%(terminal)s approved %(amount)s %(currency)s for %(order)s after it was cancelled in Odoo: "
                "record it on an order, or refund it at the vendor.", terminal=self.terminal_id.name,
                amount=self._vendor_amount(), currency=self.currency_id.name, order=self.order_name or self.name)
            _logger.warning("posbridge: %s paid on %s after it had been cancelled", self.name, self.terminal_id.name)
        self.write(values)
        if self.state != before:
            self._notify_register()

    # === CANCEL, FORCE DONE === #

    def _cancel(self):
        """Cancel in Odoo after a last look at the vendor (paid → done). Neither vendor cancels a
        request remotely: the cashier is told to cancel it on the device too, and the request is
        watched a while, so that a payment made there anyway is recorded."""
        self.ensure_one()
        if self.state not in OPEN_STATES:
            return
        self._check_status(force=True)
        if self.state in OPEN_STATES:
            self.write({"state": "cancelled", "watch_until": fields.Datetime.now() + LATE_PAYMENT_WINDOW,
                        "message": _("Cancelled in Odoo: cancel it on terminal %s too.", self.terminal_id.name)})
            self._notify_register()

    def _force_done(self, reason):
        """A POS manager records a payment the vendor cannot be asked about, with a reason; the
        vendor is still asked afterwards."""
        self.ensure_one()
        if not (reason or "").strip():
            raise UserError(_("Say why the payment is forced done."))
        if self.state == "done":
            return
        self.write({
            "state": "done", "forced_by_id": self.env.user.id, "forced_date": fields.Datetime.now(),
            "forced_reason": reason.strip(), "watch_until": fields.Datetime.now() + LATE_PAYMENT_WINDOW,
        })
        self._notify_register()

    # === CRON === #

    @api.model
    def _posbridge_cron_poll(self):
        """Requests whose POS tab is gone: ask the vendor, cancel the ones past their provider's
        timeout (watched a while longer), stop watching after the late-payment window."""
        now = fields.Datetime.now()
        for request in self.search(self._watch_domain()):
            request._check_status(force=True)
            timeout = timedelta(minutes=request.provider_id.posbridge_pending_timeout)
            if request.state in OPEN_STATES and request.sent_date and request.sent_date + timeout <= now:
                request.write({"state": "cancelled", "watch_until": now + LATE_PAYMENT_WINDOW, "message": _(
                    "Not paid within %s minutes: cancelled in Odoo.", int(timeout.total_seconds() // 60))})
                request._notify_register()
            elif request.watch_until and request.watch_until <= now:
                request.watch_until = False
            commit_unless_testing(self.env)

    @api.model
    def _watch_domain(self):
        return ["|", ("state", "in", OPEN_STATES + ("requested",)), ("watch_until", ">", fields.Datetime.now())]
