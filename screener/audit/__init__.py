"""Chain of custody: a hash-chained, append-only audit log with signed checkpoints.

The public surface is small: :func:`open_audit_log` to write events, :func:`verify_chain`
to check a database, and :mod:`screener.audit.evidence` for bundles. The design is in
``docs/audit.md``.
"""
