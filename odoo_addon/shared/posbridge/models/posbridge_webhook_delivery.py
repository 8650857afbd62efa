from datetime import timedelta

from odoo import api, fields, models

#: Helcim retries a delivery for about 3 days (specs/helcim.md §6.5); keep ids a while longer.
KEEP_DELIVERIES = timedelta(days=10)


class PosbridgeWebhookDelivery(models.Model):
    _name = "posbridge.webhook.delivery"
    _description = "Terminal webhook delivery (deduplication)"
    _order = "id desc"

    webhook_id = fields.Char(required=True, readonly=True)
    provider_id = fields.Many2one("payment.provider", required=True, readonly=True, ondelete="cascade")
    event_type = fields.Char(readonly=True)

    def init(self):
        """The unique index that `_posbridge_first_delivery`'s ON CONFLICT needs. Made here, in
        SQL, because each series declares constraints its own way (18.0: `_sql_constraints`,
        which 19.0 ignores with a warning, and then every webhook would fail)."""
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS posbridge_webhook_delivery_webhook_id_unique"
            " ON posbridge_webhook_delivery (provider_id, webhook_id)"
        )

    @api.model
    def _posbridge_first_delivery(self, provider, event):
        """Record a verified delivery; False when its webhook-id was seen already (a retry or a
        duplicate). Atomic, so two workers receiving the same delivery process it once."""
        self.env.cr.execute(
            """INSERT INTO posbridge_webhook_delivery
                   (webhook_id, provider_id, event_type, create_uid, write_uid, create_date, write_date)
               VALUES (%s, %s, %s, %s, %s, now() at time zone 'utc', now() at time zone 'utc')
               ON CONFLICT (provider_id, webhook_id) DO NOTHING
               RETURNING id""",
            (event.webhook_id, provider.id, event.type, self.env.uid, self.env.uid),
        )
        return bool(self.env.cr.fetchone())

    @api.autovacuum
    def _gc_deliveries(self):
        self.search([("create_date", "<", fields.Datetime.now() - KEEP_DELIVERIES)]).unlink()
