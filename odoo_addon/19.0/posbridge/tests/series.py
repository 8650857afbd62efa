"""Odoo 19.0: what the addon's tests do differently on this series (odoo_addon/SERIES.md)."""


class SeriesCase:
    """Mixed into the addon's HttpCase."""

    def posbridge_requests_allowed(self):
        """A context in which Odoo serves requests that reach it from outside the test: the
        sandbox's webhooks, a second browser. 19.0 holds them on its test lock (and fails them
        after 20 s) unless the test allows requests."""
        return self.allow_requests(all_requests=True)

    def assertCanOpenTestCursor(self):
        """19.0's check of a request's test cursor: the sandbox's webhooks cannot carry the
        browser's test cookie, which Odoo requires of every request while a tour runs."""
        if not self._posbridge_is_webhook_of_this_test():
            super().assertCanOpenTestCursor()
