"""A station process for the reliability tests: appends events and prints each returned
append as "seq hash" (flushed), so the parent knows exactly which appends returned."""

from __future__ import annotations

import sys
from pathlib import Path

from screener.audit.log import open_audit_log


def main() -> None:
    home, station, count, tag = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    log = open_audit_log(home, station, checkpoint_every=25)
    print("ready", flush=True)
    for i in range(count):
        record = log.append("screening.decision", {"writer": tag, "i": i}, actor=tag,
                            role="screener")
        print(f"{record.seq} {record.hash}", flush=True)
    log.close("writer done")


if __name__ == "__main__":
    main()
