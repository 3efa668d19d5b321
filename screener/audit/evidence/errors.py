"""Typed errors of evidence bundles: a bundle that cannot be read at all, and an export
that cannot be made. Both end as one line and exit status 2 in the CLI.

A bundle that *is* a bag but fails a check is not an error: verification reports it
(exit status 1) naming the file or event.
"""

from __future__ import annotations

from pathlib import Path

from screener.errors import AuditError


class EvidenceError(AuditError):
    """Base of the evidence-bundle errors."""


class BundleUnreadableError(EvidenceError):
    """The file is not a zip, or the zip (or folder) holds no BagIt bag."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = " ".join(problem.split())
        super().__init__(f"{self.path}: not an evidence bundle: {self.problem}. Screener "
                         "bundles are zip files holding one BagIt bag (docs/evidence.md).")


class EvidenceExportError(EvidenceError):
    """An export was asked for something the log or the options do not allow: an unknown
    scan, an empty range, an unknown case, an output file that cannot be written."""

    def __init__(self, problem: str) -> None:
        self.problem = " ".join(problem.split())
        super().__init__(f"evidence export: {self.problem}")
