from . import distribution_sync_message_dry_run
from . import distribution_sync_dashboard
