from odoo.addons.payment import reset_payment_provider, setup_provider

from .const import PROVIDER_CODES


def post_init_hook(env):
    """Create the account payment method and journal line of each terminal provider."""
    for code in PROVIDER_CODES:
        setup_provider(env, code)


def uninstall_hook(env):
    """Give the providers back to Odoo's list as uninstalled, as Odoo's own providers do."""
    for code in PROVIDER_CODES:
        reset_payment_provider(env, code)
