from . import distribution_sync_backend
from . import distribution_sync_quickbooks_exporter
from . import distribution_sync_quickbooks_importer
from . import distribution_sync_message
from . import distribution_sync_quickbooks_batch
from . import account_move
from . import distribution_sync_backend_demo
