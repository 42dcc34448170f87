from . import test_invoice_export
from . import test_invoice_details
from . import test_invoice_lifecycle
from . import test_tokens_connect
from . import test_webhook
from . import test_payment_import
from . import test_inbound_changes
from . import test_protocol
