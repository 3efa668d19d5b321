"""Evidence bundles: BagIt bags (RFC 8493) that prove what the audit log says about a
scan, a range of events or a case, checkable offline with nothing but the bundle.

:func:`export_bundle` writes one (after a :class:`Selection` from :func:`select_scan`,
:func:`select_events` or :func:`select_case`); :func:`verify_bundle` checks one. What a
bundle holds and how to check it by hand is in ``docs/evidence.md``.
"""

from screener.audit.evidence.errors import (
    BundleUnreadableError,
    EvidenceError,
    EvidenceExportError,
)
from screener.audit.evidence.export import (
    ExportResult,
    Selection,
    export_bundle,
    parse_range,
    select_case,
    select_events,
    select_scan,
)
from screener.audit.evidence.verify import Verification, verify_bundle

__all__ = [
    "BundleUnreadableError",
    "EvidenceError",
    "EvidenceExportError",
    "ExportResult",
    "Selection",
    "Verification",
    "export_bundle",
    "parse_range",
    "select_case",
    "select_events",
    "select_scan",
    "verify_bundle",
]
