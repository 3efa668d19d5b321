"""Checking an evidence bundle with nothing but the bundle.

In order: the bag (RFC 8493: ``bagit.txt``, every manifest and tag-manifest entry, no
unlisted file, ``Payload-Oxum``), the Ed25519 signature over the tag manifest with the
public key inside, that this key is the one the exporting station's chain names, every
event's hash, every link from an event to its signed checkpoint, every checkpoint's
signature and every key rotation's endorsement, and that each scan file hashes to its
name and each exported event's scan is either in the bundle or declared no longer
stored; then, when the bundle holds ``data/site-checkpoints.json``, each site checkpoint's
signature (and, when asked, that its key is the expected site key), each station head
through its inclusion proof to the signed root, and the links from the exported events
up to that head. Every problem names the file, and the event or checkpoint, at fault.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from screener.audit.evidence.bagit import (
    BAG_INFO_TXT,
    BagCheck,
    BagSource,
    MemberDamagedError,
    info_value,
    info_values,
    opened_bag,
    read_bytes,
    validate_bag,
)
from screener.audit.evidence.export import EVENTS_FILE, KEY_FILE, SIGNATURE_FILE
from screener.audit.evidence.proof import (
    Chain,
    ChainCheck,
    check_chain,
    event_label,
    parse_chain,
)
from screener.audit.evidence.siteproof import SITE_FILE, check_site, pinned_fingerprint
from screener.audit.keys import display_fingerprint, fingerprint

TAGMANIFEST = "tagmanifest-sha256.txt"
_SCAN_FILE = re.compile(r"data/scans/([0-9a-f]{64})\.h5")


@dataclass
class Verification:
    bundle: Path
    problems: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"bundle": str(self.bundle), "ok": self.ok, "problems": self.problems,
                "summary": self.summary}


def verify_bundle(path: Path, *, site_fingerprint: str | None = None) -> Verification:
    """Check the bundle at ``path`` (a zip, or the unpacked bag folder). With
    ``site_fingerprint`` (the site key's full fingerprint, hex) every site checkpoint in
    the bundle must be signed by that key, and the bundle must hold one. Raises
    BundleUnreadableError when it is not a bag at all (EvidenceError for a malformed
    fingerprint); otherwise reports."""
    pinned = pinned_fingerprint(site_fingerprint)
    with opened_bag(path) as source:
        bag = validate_bag(source, unlisted_tag_files=(SIGNATURE_FILE,))
        result = Verification(path, list(bag.problems))
        files = set(source.files())
        for required in (EVENTS_FILE, KEY_FILE, SIGNATURE_FILE, TAGMANIFEST):
            if required not in files:
                result.problems.append(f"{required}: missing; every Screener evidence "
                                       "bundle has it")
        public = _public_key(source, bag, result)
        _check_signature(bag, public, result)
        chain, check = _check_events(source, bag, result)
        _check_key_is_stations(bag, public, chain, check, result)
        _check_scans(bag, chain, result)
        _check_site(source, bag, chain, pinned, result)
        result.summary["key_fingerprint"] = (
            None if public is None else fingerprint(bytes.fromhex(public)))
    return result


def _public_key(source: BagSource, bag: BagCheck, result: Verification) -> str | None:
    if KEY_FILE not in set(source.files()) or KEY_FILE in bag.damaged:
        return None
    try:
        data = read_bytes(source, KEY_FILE)
        key = serialization.load_pem_public_key(data)
    except (MemberDamagedError, ValueError, TypeError) as exc:
        result.problems.append(f"{KEY_FILE}: not a readable PEM public key ({exc})")
        return None
    if not isinstance(key, Ed25519PublicKey):
        result.problems.append(f"{KEY_FILE}: a {type(key).__name__}, not an Ed25519 key")
        return None
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    named = info_value(bag.info, "Screener-Key-Fingerprint")
    if named is not None and named != fingerprint(raw):
        result.problems.append(f"{BAG_INFO_TXT}: Screener-Key-Fingerprint is not the "
                               f"fingerprint of {KEY_FILE}")
    return raw.hex()


def _check_signature(bag: BagCheck, public: str | None, result: Verification) -> None:
    data = bag.contents.get(SIGNATURE_FILE)
    tagmanifest = bag.contents.get(TAGMANIFEST)
    if data is None or tagmanifest is None:
        return
    try:
        signature = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        result.problems.append(f"{SIGNATURE_FILE}: not base64 text")
        return
    if len(signature) != 64:
        result.problems.append(f"{SIGNATURE_FILE}: {len(signature)} bytes; an Ed25519 "
                               "signature has 64")
        return
    if public is None:
        result.problems.append(f"{SIGNATURE_FILE}: cannot be checked without a usable "
                               f"{KEY_FILE}")
        return
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(signature, tagmanifest)
    except InvalidSignature:
        result.problems.append(f"{SIGNATURE_FILE}: the signature over {TAGMANIFEST} does "
                               f"not verify with {KEY_FILE}")


def _check_events(source: BagSource, bag: BagCheck,
                  result: Verification) -> tuple[Chain | None, ChainCheck]:
    if EVENTS_FILE not in set(source.files()) or EVENTS_FILE in bag.damaged:
        return None, ChainCheck()
    try:
        data = read_bytes(source, EVENTS_FILE)
    except MemberDamagedError as exc:
        result.problems.append(f"{EVENTS_FILE}: {exc}")
        return None, ChainCheck()
    chain, problems = parse_chain(EVENTS_FILE, data)
    result.problems += problems
    check = check_chain(EVENTS_FILE, chain)
    result.problems += check.problems
    selected_proven = sum(1 for key in chain.selected if key in check.proven)
    stations = sorted({st for st, _ in chain.events})
    result.summary.update({
        "events_selected": len(chain.selected), "events_proven": selected_proven,
        "events_in_file": len(chain.events), "checkpoints": len(chain.checkpoints),
        "stations": stations,
        "keys": {st: [fingerprint(bytes.fromhex(k)) for _, k in check.keys.get(st, [])]
                 for st in stations}})
    return chain, check


def _check_site(source: BagSource, bag: BagCheck, chain: Chain | None, pinned: str | None,
                result: Verification) -> None:
    summary: dict[str, Any] = {"checkpoints": [], "key_fingerprints": [], "pinned": pinned,
                               "stations": {}}
    result.summary["site"] = summary
    declared = info_value(bag.info, "Screener-Site-Checkpoints")
    named = sorted(set(info_values(bag.info, "Screener-Site-Key-Fingerprint")))
    if SITE_FILE not in set(source.files()):
        if declared is not None or named:
            result.problems.append(f"{SITE_FILE}: missing, but {BAG_INFO_TXT} says the "
                                   "bundle holds site checkpoints")
        elif pinned is not None:
            result.problems.append(f"{SITE_FILE}: missing: the bundle holds no site "
                                   "checkpoint to check against the expected site key "
                                   f"{display_fingerprint(pinned)} (--site-fingerprint)")
        return
    if SITE_FILE in bag.damaged or chain is None:
        return  # named already
    try:
        data = read_bytes(source, SITE_FILE)
    except MemberDamagedError as exc:
        result.problems.append(f"{SITE_FILE}: {exc}")
        return
    check = check_site(SITE_FILE, data, chain, pinned)
    result.problems += check.problems
    summary.update(check.summary(pinned))
    if named != sorted(check.key_fingerprints):
        result.problems.append(f"{BAG_INFO_TXT}: Screener-Site-Key-Fingerprint is not the "
                               f"fingerprint of the site key in {SITE_FILE}")


def _check_key_is_stations(bag: BagCheck, public: str | None, chain: Chain | None,
                           check: ChainCheck, result: Verification) -> None:
    station = info_value(bag.info, "Screener-Station")
    if station is None:
        result.problems.append(f"{BAG_INFO_TXT}: no Screener-Station: the exporting station "
                               "is not named")
        return
    if public is None or chain is None:
        return
    active = check.active_key(station)
    if active is None:
        result.problems.append(f"{EVENTS_FILE}: holds no key event of the exporting station "
                               f"{station!r}, so {KEY_FILE} cannot be tied to its chain")
    elif active != public:
        result.problems.append(
            f"{KEY_FILE}: key {display_fingerprint(fingerprint(bytes.fromhex(public)))} is "
            f"not the key that the chain of station {station} names last "
            f"({display_fingerprint(fingerprint(bytes.fromhex(active)))})")


def _check_scans(bag: BagCheck, chain: Chain | None, result: Verification) -> None:
    included = set()
    for name, digests in sorted(bag.digests.items()):
        match = _SCAN_FILE.fullmatch(name)
        if match is None:
            continue
        included.add(match.group(1))
        if digests["sha256"] != match.group(1):
            result.problems.append(f"{name}: does not hash to the sha256 in its name")
    included |= {m.group(1) for name in bag.damaged if (m := _SCAN_FILE.fullmatch(name))}
    purged = set(info_values(bag.info, "Screener-Purged-Scan"))
    if chain is not None:
        for key in chain.selected:
            digest = chain.events[key].scan_sha256
            if digest and digest not in included and digest not in purged:
                result.problems.append(
                    f"{EVENTS_FILE}: {event_label(*key)} names scan {digest[:16]}..., which "
                    f"is neither in data/scans/ nor declared no longer stored in "
                    f"{BAG_INFO_TXT}")
    for label in ("External-Identifier", "Contact-Name", "Screener-Station",
                  "Screener-Selection", "Screener-Exported-At"):
        result.summary[label] = info_value(bag.info, label)
    result.summary.update({
        "payload_files": len(bag.payload_files), "payload_bytes": bag.payload_bytes,
        "scans_included": sorted(included), "scans_not_stored": sorted(purged)})
    if TAGMANIFEST in bag.digests:
        result.summary["tagmanifest_sha256"] = bag.digests[TAGMANIFEST]["sha256"]
