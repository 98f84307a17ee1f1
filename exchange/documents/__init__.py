"""Attachments: files attached to listings, objections, organisations and service orders (and,
later, institution records), checked by their content, stored by SHA-256 behind a small storage
interface, read under the rule of the resource they belong to. See docs/documents.md.

What other modules use: ``ROUTE_HANDLERS`` and ``PAGE_HANDLERS``; ``create_documents(settings,
data_keys)`` builds the ``DocumentsContext`` the composition root keeps in the application state as
``documents`` and in which it registers the rules of owners in sibling modules
(``ctx.owners[OwnerKind.SERVICE_ORDER] = vouchers.ServiceOrderDocuments()``); the use cases in
``service`` (``attach``, ``list_documents``, ``get_document``, ``read_content``, ``remove``) for the
pages of other modules; the page macro ``documents/_documents.html``.
"""

from __future__ import annotations

from exchange.documents.domain import DocumentKind, OwnerKind
from exchange.documents.owners import OwnerAccess, OwnerRule
from exchange.documents.pages import PAGE_HANDLERS
from exchange.documents.routes import ROUTE_HANDLERS
from exchange.documents.service import DocumentsContext, create_documents
from exchange.documents.storage import LocalStorage, Storage

__all__ = [
    "PAGE_HANDLERS",
    "ROUTE_HANDLERS",
    "DocumentKind",
    "DocumentsContext",
    "LocalStorage",
    "OwnerAccess",
    "OwnerKind",
    "OwnerRule",
    "Storage",
    "create_documents",
]
