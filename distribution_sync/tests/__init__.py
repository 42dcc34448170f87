from . import test_jobs
from . import test_binding
from . import test_order_import
from . import test_exception
from . import test_ownership_mapping
from . import test_backend
from . import test_webhook
from . import test_security
