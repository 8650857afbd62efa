from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .posbridge_pos_request import OPEN_STATES


class PosbridgeTerminal(models.Model):
    _inherit = "posbridge.terminal"

    pos_config_ids = fields.Many2many(
        "pos.config", "posbridge_terminal_pos_config_rel", "terminal_id", "config_id",
        string="Registers", check_company=True,
        help="The Point of Sale registers that use this terminal (unless their payment method names "
        "a fixed terminal).",
    )

    @api.constrains("pos_config_ids", "provider_id")
    def _check_one_terminal_per_provider_and_register(self):
        for terminal in self:
            for config in terminal.pos_config_ids:
                others = config.posbridge_terminal_ids.filtered(
                    lambda t: t != terminal and t.provider_id == terminal.provider_id)
                if others:
                    raise ValidationError(_(
                        "%(register)s already uses terminal %(other)s of %(provider)s: a register has one "
                        "terminal per provider (a payment method may name a fixed one).",
                        register=config.name, other=others[0].name, provider=terminal.provider_id.name))

    def _posbridge_busy_message(self):
        """Override: a terminal busy with a Point of Sale request is busy for sale orders too,
        and the other way round; the message says which order or register holds it."""
        message = super()._posbridge_busy_message()
        if message:
            return message
        self.ensure_one()
        request = self.env["posbridge.pos.request"].sudo().search(
            [("terminal_id", "=", self.id), ("state", "in", OPEN_STATES)], limit=1)
        if not request:
            return False
        return _("Terminal %(terminal)s is busy with %(order)s on %(register)s: finish or cancel that "
                 "payment first, or choose another terminal.", terminal=self.name,
                 order=request.order_name or request.name, register=request.config_id.name)
