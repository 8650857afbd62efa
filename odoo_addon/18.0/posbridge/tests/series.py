"""Odoo 18.0: what the addon's tests do differently on this series (odoo_addon/SERIES.md)."""

import contextlib


class SeriesCase:
    """Mixed into the addon's HttpCase."""

    def posbridge_requests_allowed(self):
        """A context in which Odoo serves requests that reach it from outside the test: the
        sandbox's webhooks, a second browser. 18.0 serves them at any time."""
        return contextlib.nullcontext()

    def check_test_cursor(self, operation):
        """18.0's check of a request's test cursor: the sandbox's webhooks cannot carry the
        browser's test cookie, which Odoo requires of every request once a browser ran."""
        if not self._posbridge_is_webhook_of_this_test():
            super().check_test_cursor(operation)
