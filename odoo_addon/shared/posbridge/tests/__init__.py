from . import test_links
from . import test_refunds
from . import test_sale_flow
from . import test_terminals
from . import test_ui
from . import test_webhooks
