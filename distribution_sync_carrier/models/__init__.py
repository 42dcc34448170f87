from . import distribution_sync_backend
from . import distribution_sync_shipment
from . import distribution_sync_tracking_event
from . import delivery_carrier
from . import stock_picking
from . import distribution_sync_backend_demo
from . import distribution_sync_reconciliation
from . import distribution_sync_milestone
