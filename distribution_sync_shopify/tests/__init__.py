from . import test_backend
from . import test_cancel
from . import test_customer
from . import test_idempotency
from . import test_lifecycle
from . import test_order_mapping
from . import test_refund
from . import test_webhook
