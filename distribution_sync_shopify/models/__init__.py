from . import distribution_sync_backend
from . import distribution_sync_importer
from . import stock_picking
