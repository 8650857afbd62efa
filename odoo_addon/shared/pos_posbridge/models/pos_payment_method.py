import uuid

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.posbridge import const
from odoo.addons.posbridge.models.payment_transaction import commit_unless_testing
from odoo.addons.posbridge.models.row_lock import lock_rows

from .posbridge_pos_request import OPEN_STATES


class PosPaymentMethod(models.Model):
    _inherit = "pos.payment.method"

    posbridge_provider_id = fields.Many2one(
        "payment.provider", string="Terminal provider", check_company=True,
        domain="[('code', '=', use_payment_terminal)]",
        help="The Hesabe or Helcim provider whose terminals this method uses; its credentials "
        "stay on the provider, visible to administrators only.",
    )
    posbridge_terminal_id = fields.Many2one(
        "posbridge.terminal", string="Fixed terminal", check_company=True,
        domain="[('provider_id', '=', posbridge_provider_id)]",
        help="Every register uses this terminal with this method. Leave empty: each register's "
        "own terminal, else the company default.",
    )
    posbridge_is_embedded = fields.Boolean(compute="_compute_posbridge_is_embedded")

    def _get_payment_terminal_selection(self):
        return super()._get_payment_terminal_selection() + [
            (const.HESABE, "Hesabe Smart POS"), (const.HELCIM, "Helcim Smart Terminal")]

    @api.depends("posbridge_provider_id.posbridge_environment")
    def _compute_posbridge_is_embedded(self):
        for method in self:
            method.posbridge_is_embedded = method.sudo().posbridge_provider_id.posbridge_environment == "embedded"

    @api.onchange("use_payment_terminal")
    def _onchange_posbridge_provider(self):
        if self.use_payment_terminal in const.PROVIDER_CODES and (
                self.posbridge_provider_id.code != self.use_payment_terminal):
            self.posbridge_provider_id = self.env["payment.provider"].search([
                ("code", "=", self.use_payment_terminal), ("company_id", "=", self.company_id.id)], limit=1)

    @api.constrains("use_payment_terminal", "posbridge_provider_id", "posbridge_terminal_id")
    def _check_posbridge_provider(self):
        for method in self.filtered(lambda m: m.use_payment_terminal in const.PROVIDER_CODES):
            if method.posbridge_provider_id.code != method.use_payment_terminal:
                raise ValidationError(_("%s: choose the terminal provider it pays through.", method.name))
            if method.posbridge_terminal_id and method.posbridge_terminal_id.provider_id != method.posbridge_provider_id:
                raise ValidationError(_("%s: its fixed terminal belongs to another provider.", method.name))

    def _is_write_forbidden(self, fields):
        """Override of `point_of_sale`: a broken terminal can be swapped during a session."""
        return super()._is_write_forbidden(fields - {"posbridge_terminal_id"})

    # === SERVER VERBS OF THE POS (RPC) === #

    def _posbridge_check_pos_access(self, config_id):
        """Checks every verb starts with: a POS user, the register's session open, this method
        one of the register's, in its company.

        :return: the register (sudo) and its open session.
        :raise AccessError: any of those fails.
        """
        self.ensure_one()
        if not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessError(_("Only Point of Sale users can use a payment terminal."))
        config = self.env["pos.config"].browse(int(config_id)).exists()
        if not config or self not in config.payment_method_ids or config.company_id not in self.env.companies:
            raise AccessError(_("This payment method is not one of this register's."))
        session = config.current_session_id
        if not session or session.state not in ("opening_control", "opened"):
            raise AccessError(_("%s has no open session.", config.name))
        if self.use_payment_terminal not in const.PROVIDER_CODES:
            raise AccessError(_("%s does not use a Hesabe or Helcim terminal.", self.name))
        return config.sudo(), session.sudo()

    def _posbridge_refund_original(self, config, reference, amount, order_ids=()):
        """The paid request a refund of `amount` refunds: named by `reference`, else the
        payment of the refunded POS orders (`order_ids`) through this provider with the most left
        to refund; of the register's company, with at least `amount` left.

        :raise UserError: no such payment, or less is left.
        """
        domain = [("kind", "=", "payment"), ("state", "=", "done"),
                  ("provider_id", "=", self.sudo().posbridge_provider_id.id),
                  ("company_id", "=", config.company_id.id)]
        Request = self.env["posbridge.pos.request"].sudo()
        if reference:
            originals = Request.search(domain + [("name", "=", reference)], limit=1)
        else:
            originals = Request.search(domain + [("pos_payment_id.pos_order_id", "in", [int(i) for i in order_ids])])
        if not originals:
            raise UserError(_(
                "This refund has no card payment of %s to refund: refund from the original order "
                "(Refund on its ticket), in cash, or on the method it was paid with.",
                self.sudo().posbridge_provider_id.name))
        original = max(originals, key=lambda r: r._refundable())
        left = original._refundable()
        if original.currency_id.compare_amounts(amount, left) > 0:
            raise UserError(_("At most %(left)s %(currency)s is left to refund of %(ref)s.",
                              left=original.currency_id.round(left), currency=original.currency_id.name,
                              ref=original.name))
        return original

    def _posbridge_terminals(self, config):
        """The terminals a cashier may choose for this method on `config`: the company's active
        terminals of its provider."""
        return self.env["posbridge.terminal"].sudo().search([
            ("provider_id", "=", self.sudo().posbridge_provider_id.id),
            ("company_id", "=", config.company_id.id)])

    def _posbridge_chosen_terminal(self, config, terminal_id):
        """The terminal the cashier chose, checked (or nothing when none was chosen).

        :raise UserError: it is not one of `_posbridge_terminals(config)`.
        """
        if not terminal_id:
            return self.env["posbridge.terminal"]
        terminal = self._posbridge_terminals(config).filtered(lambda t: t.id == int(terminal_id))
        if not terminal:
            raise UserError(_("That terminal cannot take this method's payments on %s: choose another one.",
                              config.name))
        return terminal

    def _posbridge_terminal_for(self, config, required=True):
        """The terminal of this method on `config`: the method's fixed one, else the register's
        terminal of this provider, else the company default.

        :raise UserError: none is assigned (when `required`).
        """
        method = self.sudo()
        terminal = method.posbridge_terminal_id or config.posbridge_terminal_ids.filtered(
            lambda t: t.provider_id == method.posbridge_provider_id and t.active)[:1]
        if not terminal:
            terminal = self.env["posbridge.terminal"].sudo().search([
                ("provider_id", "=", method.posbridge_provider_id.id), ("company_id", "=", config.company_id.id),
                ("is_company_default", "=", True)], limit=1)
        if not terminal and required:
            raise UserError(_("No %(provider)s terminal is assigned to %(register)s.",
                              provider=method.posbridge_provider_id.name, register=config.name))
        return terminal

    def posbridge_pos_send(self, data):
        """Send a payment line's amount to the terminal. Idempotent: the same line and attempt
        (a browser that lost Odoo's reply) get the existing request back, never a second one.

        :param dict data: ``config_id, order_uuid, order_name, line_uuid, attempt, amount,
            partner_id`` (the POS's order and line).
        :return: the request as the POS reads it, or ``{"state": "error", "message": ...}``.
        """
        self.ensure_one()
        config, session = self._posbridge_check_pos_access(data.get("config_id"))
        Request = self.env["posbridge.pos.request"].sudo()
        attempt = int(data.get("attempt") or 1)
        line_uuid = str(data.get("line_uuid") or "")
        if not line_uuid:
            raise UserError(_("The payment line has no identifier."))
        existing = Request.search([("line_uuid", "=", line_uuid), ("attempt", "=", attempt)], limit=1)
        if existing:
            return existing._pos_answer()
        currency = config.currency_id
        amount = currency.round(float(data.get("amount") or 0))
        if currency.is_zero(amount):
            return {"state": "error", "message": _("Nothing to pay on the terminal: the amount is zero.")}
        method = self.sudo()
        original = Request.browse()
        try:
            method.posbridge_provider_id._posbridge_check_currency(currency)
            if amount < 0:
                original = self._posbridge_refund_original(
                    config, data.get("refund_of"), -amount, data.get("refunded_order_ids") or [])
            # the cashier's choice, else the register's terminal; a refund with neither: the one
            # that took the payment (an API refund needs none, but its row holds the lock)
            terminal = (self._posbridge_chosen_terminal(config, data.get("terminal_id"))
                        or self._posbridge_terminal_for(config, required=not original) or original.terminal_id)
            lock_rows(_("Terminal %s is taking another request right now; wait a moment.", terminal.name), terminal)
        except UserError as error:
            return {"state": "error", "message": str(error)}
        on_device = not original or original._refunds_on_the_device()
        busy = on_device and terminal._posbridge_busy_message()
        if busy:
            return {"state": "error", "message": busy}
        partner = self.env["res.partner"].sudo().browse(int(data.get("partner_id") or 0)).exists()
        request = Request._create_for_order({
            "kind": "refund" if original else "payment", "original_id": original.id,
            "config_id": config.id, "session_id": session.id, "payment_method_id": self.id,
            "terminal_id": terminal.id, "company_id": config.company_id.id, "currency_id": currency.id,
            "amount": amount, "order_uuid": data.get("order_uuid"), "order_name": data.get("order_name"),
            "line_uuid": line_uuid, "attempt": attempt, "idempotency_key": str(uuid.uuid4()),
        }, config, data.get("order_name"))
        # Durable before the vendor hears of it: whatever fails later, the request is there to reconcile.
        commit_unless_testing(self.env)
        if original:
            request._send_refund()
        else:
            request._send({"name": partner.name or config.name, "email": partner.email or None,
                           "phone": partner.phone or None})
        commit_unless_testing(self.env)
        self.env["payment.transaction"].sudo()._posbridge_toggle_cron()
        return request._pos_answer()

    def posbridge_pos_terminals(self, config_id):
        """The terminals the cashier may pay this method on, the register's default first
        marked, each said busy or not (the cashier's choice is sent with the next request)."""
        self.ensure_one()
        config, _session = self._posbridge_check_pos_access(config_id)
        default = self._posbridge_terminal_for(config, required=False)
        return [{"id": terminal.id, "name": terminal.name, "default": terminal == default,
                 "busy": terminal._posbridge_busy_message() or False}
                for terminal in self._posbridge_terminals(config)]

    def _posbridge_request(self, config_id, reference):
        self._posbridge_check_pos_access(config_id)
        request = self.env["posbridge.pos.request"].sudo().search(
            [("name", "=", reference), ("payment_method_id", "=", self.id)], limit=1)
        if not request:
            raise UserError(_("No terminal request %s on this payment method.", reference))
        return request

    def posbridge_pos_status(self, config_id, reference):
        """The request's state; an open one is asked about at the vendor first (at most every
        few seconds, however many tabs ask)."""
        self.ensure_one()
        request = self._posbridge_request(config_id, reference)
        if request.state in OPEN_STATES:
            request._check_status()
        return request._pos_answer()

    def posbridge_pos_cancel(self, config_id, reference):
        """The cashier cancels: a last look at the vendor (paid → done), else cancelled in Odoo
        and to cancel on the device too."""
        self.ensure_one()
        request = self._posbridge_request(config_id, reference)
        request._cancel()
        return request._pos_answer()

    def posbridge_pos_force_done(self, config_id, reference, reason):
        """A POS manager records a payment the vendor cannot be asked about, with a reason."""
        self.ensure_one()
        if not self.env.user.has_group("point_of_sale.group_pos_manager"):
            raise AccessError(_("Only a Point of Sale manager can force a terminal payment done."))
        request = self._posbridge_request(config_id, reference)
        request._force_done(reason)
        return request._pos_answer()

    def posbridge_pos_simulate(self, config_id, reference, outcome):
        """The customer at the embedded sandbox's terminal pays, declines or cancels (demos,
        tours); refused on a real vendor."""
        self.ensure_one()
        request = self._posbridge_request(config_id, reference)
        terminal = request.terminal_id
        sandbox = request.provider_id._posbridge_sandbox()
        if request.provider_id.code == const.HESABE:
            {"paid": sandbox.hesabe_pay, "declined": sandbox.hesabe_decline,
             "cancelled": sandbox.hesabe_cancel}[outcome](request.vendor_reference)
        else:
            sandbox.helcim_complete(terminal.vendor_ref, outcome={
                "paid": "approved", "declined": "declined", "cancelled": "cancelled"}[outcome])
        request._check_status(force=True)
        return request._pos_answer()

    @api.model
    def _load_pos_data_fields(self, config):
        """Override of `point_of_sale`: what the POS needs of a terminal method (no secrets)."""
        return super()._load_pos_data_fields(config) + ["posbridge_is_embedded"]
