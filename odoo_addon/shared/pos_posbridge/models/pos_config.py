from odoo import fields, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    posbridge_terminal_ids = fields.Many2many(
        "posbridge.terminal", "posbridge_terminal_pos_config_rel", "config_id", "terminal_id",
        string="Card terminals", check_company=True,
        help="The register's Hesabe and Helcim terminals (one per provider): used by the payment "
        "methods that name no fixed terminal.",
    )
