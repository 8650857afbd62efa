"""Helcim (Canada/US): Payment Hardware API clients, sync and async, and webhook verification.

A purchase answers 202 (*started*, not paid); the outcome arrives as a signed webhook.

>>> from decimal import Decimal
>>> from posbridge import helcim, sandbox
>>> with sandbox.Sandbox() as sb:
...     client = helcim.Client(**sb.helcim_credentials)
...     started = client.purchase("DY6L", Decimal("10.99"), "CAD", invoice_number="SO042")
...     _ = sb.helcim_complete("DY6L", outcome="approved")    # the customer taps the card
...     client.wait_for_transaction("SO042", interval=0.05).status
'APPROVED'

In the web handler that receives the webhook, verify it on the raw body, then fetch the
transaction it announces::

    event = helcim.verify_webhook(request.headers, request.get_data(), VERIFIER_TOKEN)
    if isinstance(event, helcim.CardTransactionEvent):
        transaction = client.event_transaction(event)      # APPROVED or DECLINED
"""

from __future__ import annotations

from .. import _native
from ._client import ENV, PRODUCTION_URL, AsyncClient, Client
from ._models import CardTransaction, Device, PaymentStarted, Ping, RateLimit, ResultList
from ._receiver import WebhookReceiver

WebhookEvent = _native.WebhookEvent
CardTransactionEvent = _native.CardTransactionEvent
TerminalCancelEvent = _native.TerminalCancelEvent
verify_webhook = _native.verify_webhook

__all__ = [
    "Client",
    "AsyncClient",
    "PRODUCTION_URL",
    "ENV",
    "verify_webhook",
    "WebhookReceiver",
    "WebhookEvent",
    "CardTransactionEvent",
    "TerminalCancelEvent",
    "Device",
    "Ping",
    "PaymentStarted",
    "CardTransaction",
    "RateLimit",
    "ResultList",
]
