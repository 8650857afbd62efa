from . import posbridge_pay_wizard
from . import posbridge_force_done_wizard
