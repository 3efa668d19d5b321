"""A blind-test certificate: one printable HTML page per recorded result.

It is made from the ``blind_test.completed`` audit event alone, so it shows what the log
holds, and names that event (station, sequence number, hash) so anyone can check it
against the chain with ``screener audit verify``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from screener.audit.chain import EventRecord
from screener.errors import ScreenerError

_STYLE = """
body { font-family: "DejaVu Serif", Georgia, serif; margin: 2.5cm; color: #111; }
.frame { border: 3px double #333; padding: 2em 3em; }
h1 { text-align: center; font-size: 1.7em; letter-spacing: 0.05em; margin-bottom: 0.2em; }
.sub { text-align: center; color: #444; margin-top: 0; }
.verdict { text-align: center; font-size: 2em; font-weight: bold; margin: 0.8em 0; }
.pass { color: #14632b; } .fail { color: #8a1c1c; }
table { border-collapse: collapse; margin: 1em auto; min-width: 60%; }
td, th { border-bottom: 1px solid #bbb; padding: 0.3em 0.8em; text-align: left; }
th { background: #eee; }
.ref { font-family: "DejaVu Sans Mono", monospace; font-size: 0.8em; color: #333;
       word-break: break-all; }
@media print { body { margin: 1cm; } }
"""


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape("-" if value is None else str(value))


def certificate_html(result: Mapping[str, Any], event: EventRecord,
                     station_key: str | None = None) -> str:
    """The certificate of one result (a ``blind_test.completed`` payload) and its event."""
    try:
        passed = bool(result["passed"])
        rows = [
            ("Trainee", result["trainee"]),
            ("Test", f"{result['test_name']} ({str(result['test_id'])[:12]})"),
            ("Date (UTC)", event.time_utc[:19].replace("T", " ")),
            ("Images", result["trials"]),
            ("Hits / misses", f"{result['hits']} / {result['misses']}"),
            ("False alarms / correct rejections",
             f"{result['false_alarms']} / {result['correct_rejections']}"),
            ("Images not answered in time (counted as cleared)", result["timeouts"]),
            ("Hit rate H (log-linear)", float(result["hit_rate"])),
            ("False-alarm rate F (log-linear)", float(result["false_alarm_rate"])),
            ("Sensitivity d'", float(result["d_prime"])),
            ("A'", float(result["a_prime"])),
            ("Criterion c", float(result["c"])),
            ("Pass mark", f"d' >= {result['pass_d_prime']} and A' >= "
                          f"{result['pass_a_prime']}"),
        ]
        categories = result.get("by_category") or {}
        for category, (hits, total) in sorted(categories.items()):
            rows.append((f"Detected: {category}", f"{hits} of {total}"))
    except (KeyError, TypeError, ValueError) as error:
        raise ScreenerError(f"audit event {event.station}#{event.seq}: not a blind test "
                            f"result ({error})") from None
    verdict = "PASSED" if passed else "NOT PASSED"
    body = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{_cell(v)}</td></tr>"
                     for k, v in rows)
    key = "" if station_key is None else \
        f"<br>station key {html.escape(station_key)}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Blind test certificate: {html.escape(str(result['trainee']))}</title>
<style>{_STYLE}</style></head>
<body><div class="frame">
<h1>X-ray Image Interpretation Test</h1>
<p class="sub">Certificate of result, Screener blind test (no AI, no feedback)</p>
<p class="verdict {'pass' if passed else 'fail'}">{verdict}</p>
<table>{body}</table>
<p class="ref">Recorded in the audit chain as event {html.escape(event.station)}
#{event.seq} ({html.escape(event.kind)}), hash {html.escape(event.hash)}{key}.
Check it with <code>screener audit verify</code>.</p>
</div></body></html>
"""


def write_certificate(folder: Path, result: Mapping[str, Any], event: EventRecord,
                      station_key: str | None = None) -> Path:
    """Write ``<trainee>-<test id>-<seq>.html`` into ``folder``."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(result["trainee"]))
    path = folder / f"{safe}-{str(result['test_id'])[:12]}-{event.seq}.html"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(certificate_html(result, event, station_key), encoding="utf-8")
    except OSError as error:
        raise ScreenerError(f"{path}: cannot write the certificate ({error.strerror})") \
            from None
    return path
