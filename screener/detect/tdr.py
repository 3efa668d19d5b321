"""DICOS Threat Detection Reports (TDR) about a scan's DX images (docs/dicos.md).

Two reports, as DICOS separates them:

* :func:`write_machine_tdr`: the detector's result, TDR Type ``MACHINE``. One potential
  threat object (PTO) per detection with its box, DICOS threat category (the class label
  in the category description) and probability; the alarm decision (``ALARM`` when a
  detection is a threat, else ``CLEAR``) and its time; the algorithm's name and version,
  the version being the model file's sha256 (64 hex digits, the most a DICOS LO value
  holds).
* :func:`write_operator_tdr`: the screener's decision, TDR Type ``OPERATOR``: ``ALARM``
  for suspect, ``CLEAR`` for clear, at the decision's time, the operator identified, one
  PTO per marked region, and the algorithm whose flags the screener saw.

Both refer to the DX images (:func:`screener.scan.dicos_export.write_dicos_dx`, or a scanner's
own): the Referenced Scan Sequence (0008,1110) lists every image of the scan, and each
PTO lists the images of its view (both energies). Everything is checked before anything
is written; a problem raises :class:`~screener.errors.DicosExportError` naming the field.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, generate_uid

from screener import __version__
from screener.errors import DicosExportError
from screener.scan import dicos_tags as tags
from screener.scan.dicos import ASSIGNING_AUTHORITY, DxInstance, dx_instances
from screener.scan.dicos_export import save_dicos
from screener.workflow.ai import AiResult, AiStatus
from screener.workflow.decisions import Decision, Mark

#: Screener's detector category -> DICOS Threat Category (4010,1012), a fixed list:
#: EXPLOSIVE, PI (prohibited item), CONTRABAND, ANOMALY, LAPTOP, OTHER, PHARMACEUTICAL.
#: Guns and knives are prohibited items; IEDs explosives; ``other`` threats (unknown
#: third-party threat classes) anomalies; benign classes ``OTHER`` (``LAPTOP`` for
#: laptops) with the assessment flag NO_THREAT. The class label itself goes in Threat
#: Category Description (4010,1013).
DICOS_CATEGORIES: dict[str, str] = {
    "gun": "PI",
    "knife": "PI",
    "ied": "EXPLOSIVE",
    "other": "ANOMALY",
    "benign": "OTHER",
}
#: Benign class labels reported as DICOS ``LAPTOP`` (compared in lower case, ``_`` for
#: spaces and hyphens).
LAPTOP_LABELS = frozenset({"laptop", "notebook", "computer", "tablet"})
#: Threat Category of a region the screener marked (the screener names no category).
OPERATOR_CATEGORY = "ANOMALY"
#: Issuer written in the Operator Identification Sequence.
OPERATOR_ID_ISSUER = "SCREENER"
#: The most characters a DICOS LO value (algorithm name) or SH value (operator id) holds.
LO_MAX, SH_MAX = 64, 16

_SHA256 = re.compile(r"[0-9a-f]{64}")
_THREAT_SEQUENCE = 0x40101011


@dataclass(frozen=True)
class _Pto:
    """One potential threat object, ready to write."""

    view: str
    box: tuple[float, float, float, float]
    category: str
    description: str
    threat: bool
    probability: float | None


# --------------------------------------------------------------------------- public


def dicos_category(category: str, label: str) -> str:
    """The DICOS Threat Category for a detection of ``category`` (gun, knife, ied, other,
    benign) and class ``label``. Unknown categories are ``ANOMALY``."""
    if category == "benign" and _normalise(label) in LAPTOP_LABELS:
        return "LAPTOP"
    return DICOS_CATEGORIES.get(category, "ANOMALY")


def write_machine_tdr(
    path: Path | str,
    images: Path | str | Sequence[Path | str] | Sequence[DxInstance],
    ai: AiResult,
    *,
    decision_time: datetime,
    processing_ms: float,
) -> Path:
    """Write the detector's result on a scan as a MACHINE TDR at ``path``.

    ``images``: the scan's DX files (one file, which brings its siblings; a folder; a
    list of files) or their :class:`~screener.scan.dicos.DxInstance`\\s. ``ai`` must be an
    ``ok`` result naming its model by sha256; its detections' views must be the DX views
    (by name). ``decision_time``: when the result was produced (timezone-aware).
    ``processing_ms``: how long the detector took (> 0), written as the total and each
    PTO's processing time.
    """
    target = Path(path)
    if ai.status is not AiStatus.OK:
        raise DicosExportError(target, "ai.status", f"the AI was {ai.status.value} "
                               f"({ai.reason or 'no reason given'}): there is no result to "
                               "report")
    name, sha = _algorithm(target, ai)
    instances = _instances(target, images)
    when = _aware(target, decision_time)
    elapsed = _positive(target, "processing_ms", processing_ms)
    views = _views(instances)
    ptos = [
        _Pto(view=d.view, box=_box(target, f"detections[{i}]", d.view, d.box, views),
             category=dicos_category(d.category, d.label), description=d.label,
             threat=d.category != "benign", probability=_probability(target, i, d.score))
        for i, d in enumerate(ai.detections)
    ]
    alarm = any(p.threat for p in ptos)
    ds = _report(target, instances, "MACHINE", alarm, when, elapsed, ptos,
                 algorithm=(name, sha))
    return save_dicos(ds, target)


def write_operator_tdr(
    path: Path | str,
    images: Path | str | Sequence[Path | str] | Sequence[DxInstance],
    decision: Decision,
    marks: Sequence[Mark],
    *,
    decision_time: datetime,
    operator: str,
    response_ms: float,
    ai: AiResult | None = None,
) -> Path:
    """Write the screener's decision on a scan as an OPERATOR TDR at ``path``.

    ``ALARM`` for suspect, ``CLEAR`` for clear, at ``decision_time`` (timezone-aware), by
    ``operator`` (at most 16 characters, a DICOS code value). One PTO per mark; a suspect
    decision without marks gets one PTO per view covering the whole view (DICOS has no
    alarm without an object). ``response_ms``: the time the screener took (> 0). ``ai``:
    the result the screener saw; its algorithm and sha256 are recorded when it names one.
    """
    target = Path(path)
    instances = _instances(target, images)
    when = _aware(target, decision_time)
    elapsed = _positive(target, "response_ms", response_ms)
    ident = operator.strip()
    if not ident or len(ident) > SH_MAX or "\\" in ident:
        raise DicosExportError(target, "operator", f"{operator!r}: an operator id is 1 to "
                               f"{SH_MAX} characters without a backslash (a DICOS code value)")
    if decision is Decision.CLEAR and marks:
        raise DicosExportError(target, "marks", "a cleared bag carries no marks")
    views = _views(instances)
    ptos = [
        _Pto(view=m.view, box=_box(target, f"marks[{i}]", m.view, tuple(map(float, m.box)),
                                   views),
             category=OPERATOR_CATEGORY, description="region marked by the screener",
             threat=True, probability=None)
        for i, m in enumerate(marks)
    ]
    alarm = decision is Decision.SUSPECT
    if alarm and not ptos:
        ptos = [_Pto(view=v, box=(0.0, 0.0, float(c), float(r)), category=OPERATOR_CATEGORY,
                     description="suspect; no region marked (whole view)", threat=True,
                     probability=None)
                for v, (c, r) in views.items()]
    algorithm = None
    if ai is not None and ai.detector and ai.model_sha256:
        algorithm = _algorithm(target, ai)
    ds = _report(target, instances, "OPERATOR", alarm, when, elapsed, ptos,
                 algorithm=algorithm, operator=ident)
    return save_dicos(ds, target)


# --------------------------------------------------------------------------- checks


def _instances(target: Path, images: Path | str | Sequence[Path | str] | Sequence[DxInstance]
               ) -> tuple[DxInstance, ...]:  # fmt: skip
    if isinstance(images, (str, os.PathLike)):
        found = dx_instances(images)
    else:
        items = list(images)
        if items and all(isinstance(i, DxInstance) for i in items):
            found = tuple(i for i in items if isinstance(i, DxInstance))
        else:
            found = dx_instances([Path(i) for i in items if not isinstance(i, DxInstance)])
    if not found:
        raise DicosExportError(target, "images", "no DX image to refer to")
    scans = {i.scan_uid for i in found}
    if len(scans) != 1:
        raise DicosExportError(target, "images", f"the images belong to {len(scans)} scans; "
                               "a report is about one")
    return found


def _views(instances: Sequence[DxInstance]) -> dict[str, tuple[int, int]]:
    """View name -> (columns, rows)."""
    return {i.view: (i.columns, i.rows) for i in instances}


def _algorithm(target: Path, ai: AiResult) -> tuple[str, str]:
    name = _lo(ai.detector or "")
    if not name:
        raise DicosExportError(target, "ai.detector", "the result names no detector")
    sha = (ai.model_sha256 or "").strip().lower()
    if not _SHA256.fullmatch(sha):
        raise DicosExportError(target, "ai.model_sha256",
                               f"{ai.model_sha256!r}: the algorithm's version is the model "
                               "file's sha256, 64 hex digits (a simulated AI has none)")
    return name, sha


def _aware(target: Path, when: datetime) -> datetime:
    if when.tzinfo is None:
        raise DicosExportError(target, "decision_time", "must be timezone-aware (UTC)")
    return when.astimezone(UTC)


def _positive(target: Path, name: str, value: float) -> float:
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise DicosExportError(target, name, f"{value!r}: must be a number of ms above 0")
    return number


def _probability(target: Path, index: int, score: float) -> float:
    value = float(score)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise DicosExportError(target, f"detections[{index}].score",
                               f"{score!r}: a probability lies in [0, 1]")
    return value


def _box(target: Path, where: str, view: str, box: Sequence[float],
         views: dict[str, tuple[int, int]]) -> tuple[float, float, float, float]:
    if view not in views:
        raise DicosExportError(target, f"{where}.view", f"{view!r} is not a view of the DX "
                               f"images ({', '.join(views)})")
    columns, rows = views[view]
    if len(box) != 4 or not all(math.isfinite(float(v)) for v in box):
        raise DicosExportError(target, f"{where}.box", f"{list(box)}: four finite numbers")
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (0 <= x0 < x1 <= columns and 0 <= y0 < y1 <= rows):
        raise DicosExportError(target, f"{where}.box", f"{[x0, y0, x1, y1]} is empty or "
                               f"outside view {view!r} ({columns} x {rows} pixels)")
    return x0, y0, x1, y1


def _normalise(label: str) -> str:
    return re.sub(r"[\s\-]+", "_", label.strip().lower())


def _lo(text: str, limit: int = LO_MAX) -> str:
    """A LO value: no backslash (the separator), printable, at most ``limit`` chars."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text.replace("\\", "/"))
    cleaned = cleaned.strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


# --------------------------------------------------------------------------- writing


def _dt(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S.%f") + "+0000"


def _report(target: Path, instances: Sequence[DxInstance], kind: str, alarm: bool,
            when: datetime, elapsed_ms: float, ptos: Sequence[_Pto], *,
            algorithm: tuple[str, str] | None, operator: str | None = None) -> Dataset:
    first = instances[0]
    seed = json.dumps({
        "type": kind, "scan": first.scan_uid, "time": when.isoformat(), "alarm": alarm,
        "ms": elapsed_ms, "algorithm": algorithm, "operator": operator,
        "ptos": [[p.view, p.box, p.category, p.description, p.probability] for p in ptos],
        "images": [i.sop_instance_uid for i in instances],
    }, sort_keys=True)
    digest = hashlib.sha256(seed.encode()).hexdigest()
    sop_uid = str(generate_uid(entropy_srcs=[digest, "tdr"]))
    day, clock = when.strftime("%Y%m%d"), when.strftime("%H%M%S.%f")

    file_meta = FileMetaDataset()
    file_meta.MediaStorageSOPClassUID = UID(tags.TDR_STORAGE)
    file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    file_meta.TransferSyntaxUID = UID(tags.EXPLICIT_VR_LITTLE_ENDIAN)
    file_meta.ImplementationClassUID = UID(str(generate_uid(entropy_srcs=["screener",
                                                                         __version__])))
    file_meta.ImplementationVersionName = f"SCREENER_{__version__}"[:16]
    file_meta.add_new(tags.META_DICOS_VERSION, "CS", tags.DICOS_VERSION)

    ds = Dataset()
    ds.file_meta = file_meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = UID(tags.TDR_STORAGE)
    ds.SOPInstanceUID = UID(sop_uid)
    ds.InstanceCreationDate, ds.InstanceCreationTime = day, clock
    ds.TimezoneOffsetFromUTC = "+0000"
    # the Object of Inspection and the Scan: those of the images
    ds.PatientID = first.ooi_id
    ds.IssuerOfPatientID = ASSIGNING_AUTHORITY
    ds.TypeOfPatientID = "TEXT"
    ds.PatientSex = "U"
    ds.add_new(0x40101042, "CS", "BAGGAGE")
    ds.StudyInstanceUID = UID(first.scan_uid)
    ds.StudyDate, ds.StudyTime = first.scan_date or day, first.scan_time or clock
    ds.StudyID = first.scan_id or "1"
    ds.add_new(0x40101048, "CS", "OPERATIONAL")
    ds.ReferencedStudySequence = DicomSequence([_reference(i) for i in instances])
    # the report's own series
    ds.Modality = "TDR"
    ds.SeriesInstanceUID = UID(str(generate_uid(entropy_srcs=[digest, "series"])))
    ds.SeriesDate, ds.SeriesTime = day, clock
    ds.add_new(0x40101044, "CS", "SUCCESSFUL")
    ds.FrameOfReferenceUID = UID(first.frame_of_reference_uid
                                 or str(generate_uid(entropy_srcs=[first.scan_uid, "frame"])))
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "Screener"
    ds.InstitutionName = "unknown"
    ds.InstitutionAddress = "unknown"
    ds.StationName = "unknown"
    ds.ManufacturerModelName = "Screener workstation"
    ds.DeviceSerialNumber = "unknown"
    ds.SoftwareVersions = f"screener {__version__}"
    ds.DateOfLastCalibration, ds.TimeOfLastCalibration = day, clock
    ds.ContentDate, ds.ContentTime = day, clock
    ds.InstanceNumber = 1
    ds.add_new(0x4010103A, "CS", tags.DICOS_VERSION)
    # the Threat Detection Report module
    ds.TDRType = kind
    if operator is not None:
        ds.OperatorIdentificationSequence = DicomSequence([_operator(operator)])
    if algorithm is not None:
        ds.ThreatDetectionAlgorithmAndVersion = list(algorithm)
    ds.AlarmDecision = "ALARM" if alarm else "CLEAR"
    ds.AlarmDecisionTime = _dt(when)
    ds.AbortFlag = "SUCCESS"
    ds.NumberOfTotalObjects = len(ptos)
    if alarm:
        ds.NumberOfAlarmObjects = sum(p.threat for p in ptos)
    ds.add_new(0x40101069, "FL", elapsed_ms)  # Total Processing Time (ms)
    ds.AdditionalScreeningPerformed = "NO"
    ds.add_new(tags.IMAGE_SCALE_REPRESENTATION, "FD", 1.0)  # FD, as the toolkit requires
    if ptos:
        started = when - timedelta(milliseconds=elapsed_ms)
        by_view: dict[str, list[DxInstance]] = {}
        for i in instances:
            by_view.setdefault(i.view, []).append(i)
        items = [_pto(number, p, by_view[p.view], started, when, elapsed_ms)
                 for number, p in enumerate(ptos, start=1)]
        ds.add_new(_THREAT_SEQUENCE, "SQ", DicomSequence(items))
    return ds


def _reference(instance: DxInstance) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = UID(instance.sop_class_uid)
    item.ReferencedSOPInstanceUID = UID(instance.sop_instance_uid)
    return item


def _operator(operator: str) -> Dataset:
    """The Operator Identification item (Person Identification macro): the operator's id
    as a code of scheme SCREENER, then the DICOS identification encoding (code 100001 of
    scheme DCS, "Text Encoding"), and the organisation (Screener)."""
    person = Dataset()
    person.CodeValue = operator
    person.CodingSchemeDesignator = OPERATOR_ID_ISSUER
    person.CodeMeaning = operator
    encoding = Dataset()
    encoding.CodeValue = "100001"
    encoding.CodingSchemeDesignator = "DCS"
    encoding.CodeMeaning = "Text Encoding"
    item = Dataset()
    item.PersonIdentificationCodeSequence = DicomSequence([person, encoding])
    item.InstitutionName = OPERATOR_ID_ISSUER  # Organization Name
    return item


def _pto(number: int, pto: _Pto, images: Sequence[DxInstance], started: datetime,
         ended: datetime, elapsed_ms: float) -> Dataset:
    x0, y0, x1, y1 = pto.box
    item = Dataset()
    item.PotentialThreatObjectID = number
    item.add_new(tags.PTO_PROCESSING_START, "DT", _dt(started))
    item.add_new(tags.PTO_PROCESSING_END, "DT", _dt(ended))
    item.add_new(tags.PTO_PROCESSING_TIME, "FL", elapsed_ms)
    representation = Dataset()
    representation.ReferencedInstanceSequence = DicomSequence([_reference(i) for i in images])
    roi = Dataset()
    roi.ThreatROIBase = [x0, y0, 0.0]  # (x = column, y = row, z), pixel corners
    roi.ThreatROIExtents = [x1 - x0, y1 - y0, 0.0]  # width, height, depth 0 in 2-D
    roi.ThreatROIBitmap = b""  # empty: the whole box
    representation.ThreatROIVoxelSequence = DicomSequence([roi])
    representation.BoundingPolygon = [x0, y0, 0.0, x1, y0, 0.0, x1, y1, 0.0, x0, y1, 0.0]
    item.PTORepresentationSequence = DicomSequence([representation])
    assessment = Dataset()
    assessment.ThreatCategory = pto.category
    assessment.ThreatCategoryDescription = pto.description
    assessment.ATDAbilityAssessment = "NO_INTERFERENCE"
    assessment.ATDAssessmentFlag = "THREAT" if pto.threat else "NO_THREAT"
    if pto.probability is not None:
        assessment.ATDAssessmentProbability = pto.probability
    item.ATDAssessmentSequence = DicomSequence([assessment])
    return item
