import posbridge

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import const


class PosbridgeTerminal(models.Model):
    _name = "posbridge.terminal"
    _description = "Card terminal"
    _inherit = ["mail.thread"]
    _order = "provider_id, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    provider_id = fields.Many2one(
        string="Provider",
        comodel_name="payment.provider",
        required=True,
        ondelete="restrict",
        domain=[("code", "in", const.PROVIDER_CODES)],
        check_company=True,
    )
    provider_code = fields.Selection(related="provider_id.code")
    company_id = fields.Many2one(related="provider_id.company_id", store=True, index=True)
    currency_names = fields.Char(string="Currencies", compute="_compute_currency_names", compute_sudo=True)
    vendor_ref = fields.Char(
        string="Terminal ID",
        required=True,
        help="Hesabe's TerminalID, or the 4-character device code the Helcim device shows.",
    )
    remarks = fields.Char(string="Model / remarks")
    active = fields.Boolean(default=True, tracking=True)
    last_status = fields.Selection(
        string="Last status",
        selection=[("unknown", "Unknown"), ("listening", "Listening"), ("not_listening", "Not listening")],
        default="unknown",
        readonly=True,
    )
    last_status_date = fields.Datetime(string="Checked on", readonly=True)
    user_ids = fields.Many2many(
        string="Salespeople",
        comodel_name="res.users",
        relation="posbridge_terminal_res_users_rel",
        domain=[("share", "=", False)],
        help="The terminal proposed first when these users push an order.",
    )
    team_ids = fields.Many2many(
        string="Sales teams",
        comodel_name="crm.team",
        relation="posbridge_terminal_crm_team_rel",
        help="The terminal proposed for the orders of these teams, when the user has none.",
    )
    is_company_default = fields.Boolean(
        string="Company default", help="Proposed when neither the user nor the team has a terminal."
    )
    transaction_ids = fields.One2many(
        string="Transactions", comodel_name="payment.transaction", inverse_name="posbridge_terminal_id"
    )
    transaction_count = fields.Integer(string="Transaction count", compute="_compute_transaction_count")

    # === COMPUTE METHODS === #

    @api.depends("provider_id.code", "provider_id.helcim_currency")
    def _compute_currency_names(self):
        for terminal in self:
            provider = terminal.provider_id
            terminal.currency_names = ", ".join(provider._posbridge_currency_names()) if provider.code else False

    def _compute_transaction_count(self):
        counts = dict(
            self.env["payment.transaction"]._read_group(
                [("posbridge_terminal_id", "in", self.ids)], ["posbridge_terminal_id"], ["__count"]
            )
        )
        for terminal in self:
            terminal.transaction_count = counts.get(terminal, 0)

    @api.depends("name", "vendor_ref")
    def _compute_display_name(self):
        for terminal in self:
            if terminal.vendor_ref and terminal.vendor_ref != terminal.name:
                terminal.display_name = f"{terminal.name} ({terminal.vendor_ref})"
            else:
                terminal.display_name = terminal.name or terminal.vendor_ref

    # === CONSTRAINT METHODS === #

    @api.constrains("vendor_ref", "provider_id")
    def _check_vendor_ref_unique(self):
        """One device is one terminal: its id is unique per provider kind across companies
        (searched as superuser, so that another company's terminal is seen)."""
        for terminal in self:
            twin = self.sudo().with_context(active_test=False).search([
                ("id", "!=", terminal.id),
                ("provider_code", "=", terminal.provider_code),
                ("vendor_ref", "=", terminal.vendor_ref),
            ], limit=1)
            if twin:
                raise ValidationError(
                    _("Terminal %(ref)s is already registered as %(name)s in company %(company)s.",
                      ref=terminal.vendor_ref, name=twin.name, company=twin.company_id.name)
                )

    @api.constrains("is_company_default", "company_id")
    def _check_one_company_default(self):
        for terminal in self.filtered("is_company_default"):
            others = self.search_count([
                ("id", "!=", terminal.id),
                ("company_id", "=", terminal.company_id.id),
                ("is_company_default", "=", True),
            ])
            if others:
                raise ValidationError(_("%s already has a default terminal.", terminal.company_id.name))

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("vendor_ref"):
                vals["vendor_ref"] = vals["vendor_ref"].strip()
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_transactions(self):
        if self.sudo().with_context(active_test=False).transaction_ids:
            raise UserError(_("A terminal with transactions cannot be deleted; archive it instead."))

    # === ACTIONS === #

    def action_view_transactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("posbridge.action_posbridge_transactions")
        action["domain"] = [("posbridge_terminal_id", "=", self.id)]
        return action

    def action_ping(self):
        """Ask a Helcim device whether it is listening (it shows a ping on its screen)."""
        self.ensure_one()
        status = self._posbridge_ping()
        message = {
            "listening": _("%s is listening.", self.display_name),
            "not_listening": _("%s is not listening: open the Helcim app on the device.", self.display_name),
            "unknown": _("Hesabe terminals cannot be pinged; they show the request when it arrives."),
        }[status]
        return self.provider_id._posbridge_notification(message, "success" if status == "listening" else "warning")

    # === BUSINESS METHODS === #

    def _posbridge_ping(self):
        """Ping a Helcim device and keep what it said; Hesabe has no ping.

        :return: ``listening``, ``not_listening`` or ``unknown``.
        :raise UserError: the vendor could not be asked.
        """
        self.ensure_one()
        if self.provider_code != const.HELCIM:
            return "unknown"
        try:
            self.provider_id._posbridge_client().ping(self.vendor_ref)
            status = "listening"
        except posbridge.DeviceNotListeningError:
            status = "not_listening"
        except posbridge.Error as error:
            raise UserError(self.provider_id._posbridge_error_message(error)) from None
        self.sudo().write({"last_status": status, "last_status_date": fields.Datetime.now()})
        return status

    def _posbridge_busy_transaction(self):
        """The open request this terminal is busy with, if any."""
        self.ensure_one()
        return self.env["payment.transaction"].sudo().search(
            [("posbridge_terminal_id", "=", self.id), ("state", "=", "pending"), ("operation", "!=", "refund")],
            limit=1,
        )

    def _posbridge_busy_message(self):
        """What to tell a user who wants this terminal while it is busy, or False."""
        self.ensure_one()
        busy = self._posbridge_busy_transaction()
        if not busy:
            return False
        return _(
            "Terminal %(terminal)s is busy with %(order)s. Cancel that request on its order (and on "
            "the device) to free it, or choose another terminal.",
            terminal=self.name, order=busy._posbridge_orders()[:1].name or busy.reference,
        )

    @api.model
    def _posbridge_for_order(self, order, user=None):
        """The terminal proposed for an order: the user's own, else the order's sales team's,
        else the company default, among the active terminals of enabled providers that take the
        order's currency.

        :param order: a `sale.order` record.
        :param user: the user pushing the order (default: the current user).
        :return: a `posbridge.terminal` record, possibly empty.
        """
        user = user or self.env.user
        candidates = self._posbridge_candidates(order)
        for matches in (
            lambda t: user in t.user_ids,
            lambda t: order.team_id and order.team_id in t.team_ids,
            lambda t: t.is_company_default,
        ):
            found = candidates.filtered(matches)
            if found:
                return found[0]
        return candidates[:1] if len(candidates) == 1 else self.browse()

    @api.model
    def _posbridge_candidates(self, order):
        """The terminals an order may be pushed to: its company's, active, on an enabled
        provider that takes its currency."""
        terminals = self.search([("company_id", "=", order.company_id.id)])
        # Salespeople read terminals, not providers: the provider's settings are read as superuser.
        return terminals.filtered(lambda t: t.sudo().provider_id.state in ("enabled", "test")
                                  and order.currency_id.name in t.sudo().provider_id._posbridge_currency_names())

    @api.model
    def _posbridge_sync(self, providers):
        """Bring the terminals of each provider in line with the vendor's list.

        :return: a one-line summary for the user.
        :raise UserError: the vendor could not be asked.
        """
        created = updated = archived = skipped = 0
        for provider in providers:
            listed = provider._posbridge_vendor_terminals()
            known = self.with_context(active_test=False).search([("provider_id", "=", provider.id)])
            by_ref = {terminal.vendor_ref: terminal for terminal in known}
            for ref, values in listed.items():
                terminal = by_ref.get(ref)
                if terminal:
                    terminal.write({**values, "active": True})
                    updated += 1
                    continue
                owner = self.sudo().with_context(active_test=False).search(
                    [("provider_code", "=", provider.code), ("vendor_ref", "=", ref)], limit=1
                )
                if owner:
                    skipped += 1  # registered in another company: one device, one owner
                    continue
                self.create({**values, "provider_id": provider.id, "vendor_ref": ref})
                created += 1
            vanished = known.filtered(lambda t: t.active and t.vendor_ref not in listed)
            vanished.write({"active": False})
            archived += len(vanished)
        return _(
            "Terminals synced: %(created)s new, %(updated)s updated, %(archived)s archived, "
            "%(skipped)s registered in another company.",
            created=created, updated=updated, archived=archived, skipped=skipped,
        )

    @api.model
    def _posbridge_assign_demo(self):
        """Demo data: Mitchell Admin and Marc Demo each get a terminal of their own, the
        first Hesabe terminal is the company default."""
        hesabe_terminals = self.search([("provider_code", "=", const.HESABE)])
        helcim_terminals = self.search([("provider_code", "=", const.HELCIM), ("vendor_ref", "!=", "JFHP")])
        admin = self.env.ref("base.user_admin")
        demo = self.env.ref("base.user_demo", raise_if_not_found=False)
        if hesabe_terminals:
            hesabe_terminals[-1].write({"user_ids": [(4, admin.id)] + ([(4, demo.id)] if demo else [])})
            hesabe_terminals[0].is_company_default = True
        if helcim_terminals:
            helcim_terminals[0].write({"user_ids": [(4, admin.id)]})
