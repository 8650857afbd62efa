from . import posbridge_pos_request
from . import pos_payment_method
from . import pos_config
from . import pos_session
from . import pos_payment
from . import posbridge_terminal
from . import payment_transaction
