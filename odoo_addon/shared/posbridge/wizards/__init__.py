from . import posbridge_pay_wizard
from . import posbridge_force_done_wizard
from . import posbridge_link_wizard
