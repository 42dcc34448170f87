"""The core addon's pure modules, taken under the name this package is loaded as.

Inside Odoo this package is ``odoo.addons.distribution_sync_shopify.core``: the core
addon's modules then come from ``odoo.addons.distribution_sync.core``, the very
module objects the Odoo side uses, so that its ``except PayloadError`` catches the
errors raised here. The pure test tier registers the addons as bare packages
(``distribution_sync_shopify.core``); they then come from ``distribution_sync.core``
and odoo is never imported.

The choice follows ``__name__`` instead of trying one import and falling back to
the other: a fallback would hide a broken import inside Odoo, and would import odoo
in the pure tier whenever it happens to be installed.
"""

if __name__.startswith("odoo.addons."):
    from odoo.addons.distribution_sync.core import (
        canonical,
        errors,
        idempotency,
        money,
        signature,
    )
else:
    from distribution_sync.core import (
        canonical,
        errors,
        idempotency,
        money,
        signature,
    )

__all__ = ["canonical", "errors", "idempotency", "money", "signature"]
