from . import distribution_sync_dashboard
