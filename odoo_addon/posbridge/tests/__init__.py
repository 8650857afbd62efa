from . import test_sale_flow
from . import test_webhooks
