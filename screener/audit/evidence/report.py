"""The bundle's readable report: one self-contained HTML file (``data/report.html``).

Style inline, images embedded as JPEG data URIs (thumbnails, linking to the full-size
annotated PNG beside it), no script, nothing fetched: it opens the same in any browser,
offline, years later. Every value from the log is HTML-escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from screener.audit.chain import CheckpointRecord, EventRecord
from screener.audit.evidence.annotate import KIND_AI_RESULT, KIND_DECISION
from screener.audit.evidence.siteproof import SITE_FILE, SiteProof
from screener.audit.keys import display_fingerprint, fingerprint


@dataclass(frozen=True)
class ImageEntry:
    view: str
    path: str  # bag-relative: data/images/<sha>-<view>.png
    sha256: str
    function: str  # the enhancement function it was rendered with
    thumbnail_jpeg: bytes  # embedded in the report


@dataclass(frozen=True)
class ScanEntry:
    sha256: str
    path: str | None  # bag-relative, None when the scan is no longer stored
    bag_id: str | None = None
    acquired_at: str | None = None
    source_kind: str | None = None
    images: list[ImageEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportData:
    case_number: str
    investigator: str
    station: str
    exported_at: str
    selection: str
    software: str
    key_fingerprint: str
    selected: Sequence[EventRecord]
    chain_events: int
    checkpoints: Sequence[CheckpointRecord]
    key_events: Sequence[EventRecord]
    scans: Sequence[ScanEntry]
    signature_file: str
    site: SiteProof | None = None  # None: the log is no site


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#111;
max-width:78em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.9em;word-break:break-all}
.warn{background:#fff3cd;border:1px solid #e0b000;padding:.5em}
figure{display:inline-block;margin:.5em;vertical-align:top}
figcaption{font-size:.85em;max-width:60em}img{border:1px solid #888;max-width:100%}
.suspect{color:#b00000;font-weight:bold}.clear{color:#006000}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _event_id(record: EventRecord) -> str:
    return f"{record.station}#{record.seq}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """``rows`` hold HTML already escaped."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _short(digest: str | None) -> str:
    if not digest:
        return ""
    return f'<span class="mono" title="{_e(digest)}">{_e(digest[:16])}…</span>'


def _decisions(data: ReportData) -> str:
    rows = []
    for record in data.selected:
        if record.kind != KIND_DECISION:
            continue
        payload = record.payload_dict()
        decision = str(payload.get("decision", "?"))
        marks = payload.get("marks")
        tip = payload.get("tip")
        tip_text = "none"
        if isinstance(tip, dict):
            tip_text = (f"{_e(tip.get('fti_id'))} ({_e(tip.get('category'))}): "
                        f"<b>{_e(tip.get('outcome'))}</b>")
        css = "suspect" if decision == "suspect" else "clear"
        rows.append([_e(record.time_utc), _e(_event_id(record)), _e(record.actor),
                     f'<span class="{css}">{_e(decision)}</span>',
                     _e(len(marks) if isinstance(marks, list) else 0),
                     _e(payload.get("response_ms")), tip_text, _short(record.scan_sha256)])
    if not rows:
        return "<p>No screening decision among the exported events.</p>"
    return _table(["time (UTC)", "event", "screener", "decision", "marks", "response ms",
                   "TIP", "scan"], rows)


def _ai(data: ReportData) -> str:
    rows = []
    for record in data.selected:
        if record.kind != KIND_AI_RESULT:
            continue
        payload = record.payload_dict()
        found = []
        detections = payload.get("detections")
        for item in detections if isinstance(detections, list) else []:
            if isinstance(item, dict):
                score = item.get("score")
                shown = f"{score:.2f}" if isinstance(score, float | int) else "?"
                found.append(f"{_e(item.get('label'))} {shown} ({_e(item.get('view'))})")
        rows.append([_e(record.time_utc), _e(_event_id(record)), _e(payload.get("status")),
                     "<br>".join(found) or "none", _short(record.model_sha256),
                     _short(record.scan_sha256)])
    if not rows:
        return "<p>No AI result among the exported events.</p>"
    return _table(["time (UTC)", "event", "status", "detections", "model", "scan"], rows)


def _events(data: ReportData) -> str:
    rows = [[_e(r.time_utc), _e(_event_id(r)), _e(r.kind), f"{_e(r.actor)} ({_e(r.role)})",
             _short(r.scan_sha256), f"<code>{_e(r.payload)}</code>", _short(r.hash)]
            for r in data.selected]
    return _table(["time (UTC)", "event", "kind", "actor (role)", "scan", "payload", "hash"],
                  rows)


def _scans(data: ReportData) -> str:
    parts = []
    for scan in data.scans:
        parts.append(f"<h3 class=\"mono\">scan {_e(scan.sha256)}</h3>")
        if scan.path is None:
            parts.append('<p class="warn">This scan is <b>not in the bundle</b>: it is no '
                         "longer in the station's scan store (deleted by retention, or "
                         "never stored). Its events are in the bundle; its image is not.</p>")
        else:
            parts.append(f'<p>File <a href="{_e(scan.path.removeprefix("data/"))}">'
                         f'<code>{_e(scan.path)}</code></a>, byte for byte as stored; '
                         f"bag {_e(scan.bag_id)}, acquired {_e(scan.acquired_at)}, "
                         f"{_e(scan.source_kind)}.</p>")
        if scan.notes:
            parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in scan.notes) + "</ul>")
        for image in scan.images:
            uri = base64.b64encode(image.thumbnail_jpeg).decode("ascii")
            href = _e(image.path.removeprefix("data/"))
            parts.append(
                f'<figure><a href="{href}"><img alt="view {_e(image.view)}" '
                f'src="data:image/jpeg;base64,{uri}"></a><figcaption>view '
                f"<b>{_e(image.view)}</b>, {_e(image.function)} enhancement; full size: "
                f"<code>{_e(image.path)}</code> (sha256 <span class=\"mono\">"
                f"{_e(image.sha256)}</span>)</figcaption></figure>")
    return "".join(parts) or "<p>No scan is named by the exported events.</p>"


def _chain(data: ReportData) -> str:
    cps = [[_e(f"{c.station}#{c.seq}"), _e(c.time_utc), _e(c.reason),
            f'<span class="mono">{_e(display_fingerprint(c.key_fingerprint))}</span>',
            _short(c.head_hash)] for c in data.checkpoints]
    keys = []
    for record in data.key_events:
        public = str(record.payload_dict().get("public_key", ""))
        try:
            shown = display_fingerprint(fingerprint(bytes.fromhex(public)))
        except ValueError:
            shown = "(unreadable)"
        keys.append([_e(_event_id(record)), _e(record.time_utc), _e(record.kind),
                     f'<span class="mono">{_e(shown)}</span>'])
    return (f"<p>{len(data.selected)} exported event(s); with the links to their signed "
            f"checkpoints and the key events, <code>data/events.jsonl</code> holds "
            f"{data.chain_events} event(s) and {len(data.checkpoints)} checkpoint(s).</p>"
            "<h3>Signed checkpoints</h3>" + _table(
                ["checkpoint", "time (UTC)", "reason", "signed by key", "head hash"], cps)
            + "<h3>Signing keys (genesis and rotation events)</h3>" + _table(
                ["event", "time (UTC)", "kind", "key fingerprint"], keys))


def _site(data: ReportData) -> str:
    site = data.site
    if site is None:
        return ""
    rows = []
    for entry in site.heads:
        cp = site.checkpoints[entry.number]
        rows.append([_e(cp.number), _e(cp.time_utc), _e(entry.head.station),
                     _e(f"{entry.head.station}#{entry.head.seq}"), _short(entry.head.head_hash),
                     _short(cp.root), _e(len(entry.proof)),
                     f'<span class="mono">{_e(display_fingerprint(cp.key_fingerprint))}</span>'])
    parts = ["<h3>Site checkpoints</h3>",
             "<p>The site key signs a Merkle root over the chain head of every station of "
             f"the site. <code>{_e(SITE_FILE)}</code> holds, for the exported events of "
             "each station, the earliest site checkpoint whose head of that station is at "
             "or after them, the head's inclusion proof and the events that link the "
             "exported events to that head.</p>"]
    if rows:
        parts.append(_table(["site checkpoint", "time (UTC)", "station", "head", "head hash",
                             "signed root", "proof steps", "signed by site key"], rows))
    for coverage in site.stations:
        if not coverage.not_yet_covered:
            continue
        if coverage.last_site_checkpoint is None:
            why = "no site checkpoint has recorded this station's chain yet"
        else:
            why = (f"the last site checkpoint ({coverage.last_site_checkpoint}) recorded "
                   f"its head at seq {coverage.last_head_seq}")
        parts.append(f'<p class="warn"><b>{len(coverage.not_yet_covered)} exported '
                     f"event(s) of station {_e(coverage.station)} (from seq "
                     f"{coverage.not_yet_covered[0]}) are not yet covered by a site "
                     f"checkpoint</b>: {_e(why)}. They are proven by the station's own "
                     "signed checkpoints only.</p>")
    return "".join(parts)


def render_report(data: ReportData) -> bytes:
    purged = [s.sha256 for s in data.scans if s.path is None]
    warning = ""
    if purged:
        warning = (f'<p class="warn"><b>{len(purged)} scan(s) named by these events are '
                   "not in this bundle</b> (no longer stored): "
                   + ", ".join(f"<code>{_e(s)}</code>" for s in purged) + "</p>")
    fields = [("Case number", data.case_number), ("Investigator", data.investigator),
              ("Exported by station", data.station), ("Exported at (UTC)", data.exported_at),
              ("Selection", data.selection), ("Software", data.software)]
    header = _table(["", ""], [[f"<b>{_e(k)}</b>", _e(v)] for k, v in fields] + [[
        "<b>Station key fingerprint</b>",
        f'<span class="mono">{_e(display_fingerprint(data.key_fingerprint))}</span> '
        f'<br><span class="mono">{_e(data.key_fingerprint)}</span>']] + [[
            "<b>Site key fingerprint</b>",
            f'<span class="mono">{_e(display_fingerprint(f))}</span> '
            f'<br><span class="mono">{_e(f)}</span>']
        for f in (data.site.key_fingerprints if data.site is not None else [])])
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Evidence bundle {_e(data.case_number)}</title><style>{_STYLE}</style></head>
<body>
<h1>Screener evidence bundle — case {_e(data.case_number)}</h1>
{header}
{warning}
<h2>How to check this bundle</h2>
<p>This report is part of a BagIt bag. Run <code>screener evidence verify BUNDLE.zip</code>,
or by hand: <code>sha256sum -c manifest-sha256.txt</code> and
<code>sha256sum -c tagmanifest-sha256.txt</code> in the bag folder, then check the Ed25519
signature in <code>{_e(data.signature_file)}</code> over <code>tagmanifest-sha256.txt</code>
with <code>data/station-key.pem</code> (docs/evidence.md). Compare the key fingerprint
above with the one the station shows (<code>screener audit key show</code>) or publishes.
On a site, <code>{_e(SITE_FILE)}</code> holds the site checkpoints that cover the events;
compare the site key fingerprint with the one the site's supervisor publishes, or pass it
to <code>screener evidence verify --site-fingerprint</code>.</p>
<h2>Decisions</h2>
{_decisions(data)}
<h2>AI results</h2>
{_ai(data)}
<h2>Scans and images</h2>
<p>Boxes: <b style="color:#00b0b0">cyan</b> = screener's mark,
<b style="color:#c000c0">magenta</b> = AI detection (label, score),
<b style="color:#d00000">red</b> = projected TIP image.</p>
{_scans(data)}
<h2>Exported events</h2>
{_events(data)}
<h2>Chain of custody</h2>
{_chain(data)}
{_site(data)}
</body></html>
"""
    return html.encode("utf-8")
