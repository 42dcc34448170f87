# Copyright 2026 distribution_sync maintainers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl.html)


def migrate(cr, version):
    """The "processing" message state is gone (a message is worked on inside
    its job's transaction); a row left in it is open work: queued again, the
    stuck-message cron gives it a job."""
    cr.execute(
        "UPDATE distribution_sync_message SET state = 'queued' "
        "WHERE state = 'processing'"
    )
