from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    posbridge_terminal_ids = fields.Many2many(
        string="Card terminals",
        comodel_name="posbridge.terminal",
        relation="posbridge_terminal_res_users_rel",
        column1="res_users_id",
        column2="posbridge_terminal_id",
        help="The terminal proposed first when this user pushes a sale order to a terminal.",
    )
