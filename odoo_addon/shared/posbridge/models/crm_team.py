from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    posbridge_terminal_ids = fields.Many2many(
        string="Card terminals",
        comodel_name="posbridge.terminal",
        relation="posbridge_terminal_crm_team_rel",
        column1="crm_team_id",
        column2="posbridge_terminal_id",
        help="The terminal proposed for this team's orders when the salesperson has none.",
    )
