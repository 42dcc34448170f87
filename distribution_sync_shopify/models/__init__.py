from . import distribution_sync_backend
from . import distribution_sync_importer
from . import distribution_sync_shopify_location
from . import stock_picking
