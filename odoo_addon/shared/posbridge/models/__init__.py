from . import payment_provider
from . import payment_transaction
from . import posbridge_terminal
from . import posbridge_webhook_delivery
from . import res_users
from . import crm_team
from . import sale_order
from . import series_payment_hooks
