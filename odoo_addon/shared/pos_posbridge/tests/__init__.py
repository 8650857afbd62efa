from . import test_pos_refunds, test_pos_requests, test_pos_ui
