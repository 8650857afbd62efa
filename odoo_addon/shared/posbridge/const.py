"""The addon's constants: provider codes, the webhook route and what a vendor result means
for an Odoo transaction. Vendor protocol facts live in the ``posbridge`` package."""

HESABE = "hesabe_pos"
HELCIM = "helcim_terminal"
PROVIDER_CODES = (HESABE, HELCIM)

#: Helcim card transaction types that give a payment back: a refund, or the reversal of a
#: purchase still in the open batch (all of it, the same day).
HELCIM_GIVE_BACK_TYPES = ("refund", "reverse")

#: The card-terminal payment method every terminal transaction uses.
PAYMENT_METHOD_CODE = "card_terminal"
#: The payment method of a Hesabe payment link (KNET or a card, on Hesabe's page).
LINK_PAYMENT_METHOD_CODE = "hesabe_link"

#: Currencies each vendor settles in (Hesabe: KWD only; Helcim: the merchant's CAD or USD).
SUPPORTED_CURRENCIES = {HESABE: ("KWD",), HELCIM: ("CAD", "USD")}

#: Helcim refuses webhook URLs that contain its own name, in any case (specs/helcim.md §6.1).
WEBHOOK_ROUTE = "/posbridge/webhook/<int:provider_id>"

#: ``posbridge.hesabe.PosInvoice.state`` → the Odoo transaction state it leads to.
HESABE_STATE_MAPPING = {
    "pending": "pending",
    "paid": "done",
    "failed": "error",
    "cancelled": "cancel",
}

#: ``posbridge.hesabe.Refund.state`` → the state of the Odoo refund transaction.
HESABE_REFUND_STATE_MAPPING = {
    "pending": "pending",
    "approved": "done",
    "rejected": "error",
}

#: How a Hesabe payment link reaches the customer (posbridge.hesabe.LINK_CHANNELS says how Hesabe
#: is asked for each).
LINK_CHANNELS = [("sms", "SMS"), ("whatsapp", "WhatsApp"), ("email", "e-mail"), ("url", "a link to share")]

#: ``posbridge.hesabe.Invoice.state`` (a payment link) → the Odoo transaction state it leads to.
HESABE_LINK_STATE_MAPPING = {
    "unpaid": "pending",
    "paid": "done",
    "cancelled": "cancel",
}

#: Where Hesabe POSTs a paid link's webhook (unsigned: a trigger for a lookup only).
HESABE_WEBHOOK_ROUTE = "/posbridge/hesabe/<int:provider_id>"

#: Minutes a terminal request may stay pending before it is looked up once more and cancelled.
DEFAULT_PENDING_TIMEOUT = 15

#: The bus notification an open sale order form listens to.
BUS_NOTIFICATION = "posbridge.terminal_update"

#: The bus notification a register's open Point of Sale listens to (pos_posbridge): the request's
#: reference only, the POS reads the rest over RPC.
POS_BUS_NOTIFICATION = "POSBRIDGE_UPDATE"
