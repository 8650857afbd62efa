"""One request at a time per order, invoice or terminal, whatever the number of users, clicks
and workers."""

import psycopg2

from odoo.exceptions import UserError


def lock_rows(message, *recordsets):
    """Take the rows of `recordsets` for this request, without waiting, and touch them: a
    concurrent transaction that read them before fails to serialize and is retried by Odoo, and
    then sees what this one did.

    :param str message: the refusal when another request holds one of them right now.
    :raise UserError: `message`.
    """
    cr = recordsets[0].env.cr
    try:
        with cr.savepoint(flush=False):
            for records in recordsets:
                cr.execute(f"SELECT id FROM {records._table} WHERE id IN %s FOR UPDATE NOWAIT",  # noqa: S608
                           (tuple(records.ids),), log_exceptions=False)
    except psycopg2.errors.LockNotAvailable:
        raise UserError(message) from None
    for records in recordsets:
        cr.execute(f"UPDATE {records._table} SET write_date = write_date WHERE id IN %s",  # noqa: S608
                   (tuple(records.ids),))
