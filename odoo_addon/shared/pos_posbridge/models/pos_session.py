from odoo import _, models
from odoo.exceptions import UserError

from .posbridge_pos_request import OPEN_STATES


class PosSession(models.Model):
    _inherit = "pos.session"

    def _posbridge_check_no_open_request(self):
        """A session does not close while one of its terminal requests is still open: its
        payment could be lost. The message lists them."""
        requests = self.env["posbridge.pos.request"].sudo().search(
            [("session_id", "in", self.ids), ("state", "in", OPEN_STATES)])
        if requests:
            raise UserError(_(
                "Terminal payments are still open in this session: %s. Finish them on the terminal, "
                "or cancel them from the register, before closing.",
                ", ".join(f"{r.name} ({r.order_name or '-'}, {r.amount} {r.currency_id.name}, {r.terminal_id.name})"
                          for r in requests)))

    def action_pos_session_closing_control(self, *args, **kwargs):
        self._posbridge_check_no_open_request()
        return super().action_pos_session_closing_control(*args, **kwargs)

    def action_pos_session_close(self, *args, **kwargs):
        self._posbridge_check_no_open_request()
        return super().action_pos_session_close(*args, **kwargs)
