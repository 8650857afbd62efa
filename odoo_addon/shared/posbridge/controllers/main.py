import logging

import posbridge
from posbridge import helcim, hesabe

from odoo import http
from odoo.http import request

from .. import const

_logger = logging.getLogger(__name__)


class PosbridgeController(http.Controller):
    #: No "helcim" in it: Helcim refuses such webhook URLs (specs/helcim.md §6.1).
    _webhook_url = const.WEBHOOK_ROUTE

    @http.route(_webhook_url, type="http", auth="public", methods=["POST"], csrf=False,
                save_session=False, readonly=False)
    def posbridge_webhook(self, provider_id, **_kwargs):
        """Receive a Helcim webhook: verify its signature on the raw body, drop repeats by
        webhook-id, then treat it as a trigger (the card transaction is fetched from Helcim).

        Answers 401 to a bad or stale signature (nothing changes), 200 to everything verified,
        including events or references it does not know, so that Helcim stops retrying.
        """
        provider = request.env["payment.provider"].sudo().browse(provider_id).exists()
        if not provider or provider.code != const.HELCIM or not provider.helcim_verifier_token:
            _logger.warning("posbridge: webhook for unknown or unconfigured provider %s", provider_id)
            return request.make_response("unknown provider", status=404)
        body = request.httprequest.get_data()
        try:
            event = helcim.verify_webhook(dict(request.httprequest.headers), body, provider.helcim_verifier_token)
        except posbridge.SignatureError as error:
            _logger.warning("posbridge: webhook for %s refused: %s", provider.name, error)
            return request.make_response("bad signature", status=401)
        except posbridge.Error as error:
            _logger.warning("posbridge: unreadable webhook for %s: %s", provider.name, error)
            return request.make_response("bad request", status=400)
        delivery = request.env["posbridge.webhook.delivery"].sudo()
        if not delivery._posbridge_first_delivery(provider, event):
            _logger.info("posbridge: webhook %s already processed", event.webhook_id)
            return request.make_response("ok")
        try:
            request.env["payment.transaction"].sudo()._posbridge_handle_helcim_event(provider, event)
        except posbridge.Error as error:
            # Helcim retries a failed delivery with the same id: forget this one so it counts.
            _logger.warning("posbridge: webhook %s not processed yet: %s", event.webhook_id, error)
            request.env.cr.rollback()
            return request.make_response("try again", status=503)
        return request.make_response("ok")

    @http.route(const.HESABE_WEBHOOK_ROUTE, type="http", auth="public", methods=["POST"], csrf=False,
                save_session=False, readonly=False)
    def posbridge_hesabe_webhook(self, provider_id, **_kwargs):
        """Receive Hesabe's webhook of a paid payment link. It is unsigned, so it is a trigger
        only: the link it names is looked up at Hesabe (at most every few seconds per link, never
        for a reference Odoo does not know) and Hesabe's answer is applied, never the body's.

        Answers 200 to every readable delivery, known or not (nothing is revealed, and Hesabe
        has no reason to retry), 400 to a body that is no Hesabe webhook, 404 to an unknown
        provider.
        """
        provider = request.env["payment.provider"].sudo().browse(provider_id).exists()
        if not provider or provider.code != const.HESABE:
            return request.make_response("unknown provider", status=404)
        try:
            event = hesabe.parse_webhook(request.httprequest.get_data())
        except posbridge.Error as error:
            _logger.warning("posbridge: unreadable Hesabe webhook for %s: %s", provider.name, error)
            return request.make_response("bad request", status=400)
        request.env["payment.transaction"].sudo()._posbridge_handle_hesabe_webhook(provider, event)
        return request.make_response("ok")
