"""DICOS interoperability (docs/dicos.md): DX import and export, Threat Detection Reports.

Screener reads and writes DICOS with pydicom; the checks that a file is DICOS as others
read it use pydicos, which wraps Stratovan's DICOS toolkit (the reference implementation
TSA funded) and whose readers validate every attribute a DICOS object requires. pydicos
has wheels only for CPython 3.11 on x86-64; elsewhere those tests skip and say so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from conftest import make_synthetic_scan
from onnx_builders import manifest_document, sha256_of, v8_tensor, write_manifest, write_model
from pydicom.dataset import Dataset
from pydicom.uid import JPEGBaseline8Bit, RLELossless

from screener.detect.tdr import dicos_category, write_machine_tdr, write_operator_tdr
from screener.errors import (
    DicosExportError,
    DicosGroupError,
    MissingFieldError,
    NotADicosFileError,
    ScanFileNotFoundError,
    ScanFormatError,
    ScanTooLargeError,
    TruncatedScanError,
    UnsupportedDicosImageError,
    UnsupportedDicosObjectError,
    UnsupportedTransferSyntaxError,
    WrongDtypeError,
)
from screener.scan import Scan, ScanLimits, SourceKind, file_kind, load_any, write_scan
from screener.scan.dicos import dicos_group, dx_instances, read_dicos
from screener.scan.dicos_export import write_dicos_dx
from screener.scan.dicos_tags import DX_FOR_PROCESSING, TDR_STORAGE
from screener.workflow.ai import AiDetection, AiResult, AiStatus
from screener.workflow.decisions import Decision, Mark

try:
    import pydicos

    toolkit = importlib.import_module("pyDICOS")  # the Stratovan toolkit's bindings
except ImportError as exc:  # no wheel for this Python or machine
    pydicos = None
    toolkit = None
    PYDICOS_MISSING = (f"pydicos (the Stratovan DICOS toolkit, the independent reader) cannot "
                       f"be imported here ({exc}); it has wheels only for CPython 3.11 on "
                       "x86-64")
else:
    PYDICOS_MISSING = ""

needs_pydicos = pytest.mark.skipif(pydicos is None, reason=PYDICOS_MISSING or "n/a")

SHA = "3b1f" * 16
WHEN = datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
Run = Callable[..., tuple[int, str, str]]


def exported(tmp_path: Path, name: str = "dx", **kwargs: Any) -> tuple[Scan, list[Path]]:
    scan, _ = make_synthetic_scan(**kwargs)
    return scan, write_dicos_dx(scan, tmp_path / name)


def assert_same_scan(read: Scan, original: Scan) -> None:
    assert read.metadata == original.metadata
    assert len(read.views) == len(original.views)
    for got, want in zip(read.views, original.views, strict=True):
        assert (got.name, got.full_scale, got.pixel_pitch_mm, got.belt_direction) == \
            (want.name, want.full_scale, want.pixel_pitch_mm, want.belt_direction)
        assert got.high.dtype == np.uint16 and got.high.flags.writeable
        np.testing.assert_array_equal(got.high, want.high)
        if want.low is None:
            assert got.low is None
        else:
            np.testing.assert_array_equal(got.low, want.low)


def mutate(source: Path, target: Path, change: Callable[[Dataset], None]) -> Path:
    """A copy of a DICOS file with ``change`` applied (pydicom, as written)."""
    ds = pydicom.dcmread(source)
    change(ds)
    target.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(target)
    return target


def single_file(tmp_path: Path) -> Path:
    """One single-energy DX file alone in its folder."""
    _, files = exported(tmp_path, "single", kind="single-energy")
    return files[0]


# --------------------------------------------------------------------------- round trip


def test_uint16_dual_energy_round_trip_is_bit_exact(tmp_path: Path) -> None:
    scan, files = exported(tmp_path, views=2)
    assert [f.name for f in files] == ["BAG-0000_0-top_high.dcs", "BAG-0000_0-top_low.dcs",
                                       "BAG-0000_1-side_high.dcs", "BAG-0000_1-side_low.dcs"]
    for source in (files[0], files[3], tmp_path / "dx", list(reversed(files))):
        assert_same_scan(read_dicos(source), scan)
    assert dicos_group(files[2]) == tuple(files)
    assert file_kind(files[0]) == "dicos"
    assert_same_scan(load_any(files[1]), scan)


@pytest.mark.parametrize("kind", ["single-energy", "simulated-dual-energy"])
def test_kinds_round_trip(tmp_path: Path, kind: str) -> None:
    scan, files = exported(tmp_path, kind=kind, full_scale=65535)
    assert len(files) == (1 if kind == "single-energy" else 2)
    assert_same_scan(read_dicos(files[0]), scan)


def test_a_dicos_file_is_known_by_its_content_too(tmp_path: Path) -> None:
    source = single_file(tmp_path)
    other = tmp_path / "named" / "image.dcm"
    other.parent.mkdir()
    other.write_bytes(source.read_bytes())
    assert file_kind(other) == "dicos"
    np.testing.assert_array_equal(load_any(other).views[0].high,
                                  read_dicos(source).views[0].high)


def test_float32_is_quantised_to_uint16_on_full_scale_65535(tmp_path: Path) -> None:
    scan, files = exported(tmp_path, dtype="float32")
    read = read_dicos(files[0])
    view = read.views[0]
    assert (view.high.dtype, view.full_scale) == (np.uint16, 65535.0)
    for channel in ("high", "low"):
        error = np.abs(view.transmission(channel) - scan.views[0].transmission(channel))
        assert error.max() <= 0.5 / 65535 + 1e-7
    assert read.metadata == scan.metadata


def test_export_is_deterministic_and_shares_the_scan_uids(tmp_path: Path) -> None:
    scan, files = exported(tmp_path, views=2)
    again = write_dicos_dx(scan, tmp_path / "again")
    assert [f.read_bytes() for f in files] == [f.read_bytes() for f in again]
    datasets = [pydicom.dcmread(f) for f in files]
    assert len({d.StudyInstanceUID for d in datasets}) == 1
    assert len({d.FrameOfReferenceUID for d in datasets}) == 1
    assert len({d.SeriesInstanceUID for d in datasets}) == 4
    assert len({d.SOPInstanceUID for d in datasets}) == 4
    for d, (view, energy) in zip(datasets, [(1, "HIGH"), (1, "LOW"), (2, "HIGH"), (2, "LOW")],
                                 strict=True):
        assert d.SOPClassUID == DX_FOR_PROCESSING and d.Modality == "XRAY"
        assert d.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert list(d.ImageType) == ["ORIGINAL", f"{energy} ENERGY"]
        assert d[0x61000024].value == view and d[0x61000031].value == f"{energy} ENERGY"
        assert d.PatientID == "BAG-0000"  # OOI ID
        assert d.AcquisitionDateTime == "20240506070809.123456+0000"
        assert (d.BitsAllocated, d.BitsStored, d.HighBit) == (16, 12, 11)  # full scale 4095
        assert [float(v) for v in d.ImagerPixelSpacing] == list(scan.views[view - 1]
                                                                 .pixel_pitch_mm)


def test_metadata_longer_than_dicos_fields_round_trips(tmp_path: Path) -> None:
    scan, _ = make_synthetic_scan()
    meta = dataclasses.replace(scan.metadata, bag_id="B\\" + "ü" * 80,
                               station="a station name longer than sixteen characters")
    scan = Scan(meta, scan.views)
    files = write_dicos_dx(scan, tmp_path / "long")
    assert read_dicos(files[0]).metadata == meta
    ds = pydicom.dcmread(files[0])
    assert len(ds.PatientID) == 64 and "\\" not in ds.PatientID
    assert len(ds.StationName) <= 16


def test_pseudo_colour_is_refused(tmp_path: Path) -> None:
    scan, _ = make_synthetic_scan(kind="pseudo-colour")
    with pytest.raises(DicosExportError) as caught:
        write_dicos_dx(scan, tmp_path / "pc")
    assert caught.value.field == "source_kind"
    assert not (tmp_path / "pc").exists()


# ----------------------------------------------------------- the independent reader


@needs_pydicos
def test_pydicos_reads_our_dx_images(tmp_path: Path) -> None:
    """The Stratovan toolkit reads every exported image: sizes and all pixel values."""
    scan, files = exported(tmp_path, views=2, shape=(30, 50), full_scale=65535)
    channels = [c for v in scan.views for c in (v.high, v.low)]
    for path, channel in zip(files, channels, strict=True):
        pixels = np.array(pydicos.DXLoader(str(path)).get_data())
        assert pixels.shape == (30, 50)
        np.testing.assert_array_equal(pixels, channel)
        ds = pydicom.dcmread(path)  # pydicos's DX binding cannot give these (GetModality fails)
        assert (ds.SOPClassUID, ds.Modality) == (DX_FOR_PROCESSING, "XRAY")


def pydicos_dx(path: Path, image: np.ndarray, syntax: Any) -> Path:
    """A DX written by the toolkit through its fast path (a numpy view of its buffer; its
    own set_data loops over pixels in Python)."""
    dx = pydicos.DXLoader()
    dx.Initialize(toolkit.OBJECT_OF_INSPECTION_TYPE.enumTypeBaggage,
                  toolkit.PRESENTATION_INTENT_TYPE.enumProcessing)
    dx.SetKVP(160.0)
    dx.SetXRayTubeCurrent(1.0)
    data = dx.GetXRayData()
    data.Allocate(toolkit.IMAGE_DATA_TYPE.enumUnsigned16Bit, image.shape[1], image.shape[0])
    np.asarray(data.GetUnsigned16())[...] = image
    errors = toolkit.ErrorLog()
    path.parent.mkdir(parents=True, exist_ok=True)
    assert dx.Write(toolkit.Filename(str(path)), errors, syntax), \
        errors.GetErrorLog().Get()
    return path


@needs_pydicos
def test_files_the_toolkit_writes_import(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 65536, (30, 50), dtype=np.uint16)
    syntaxes = toolkit.TRANSFER_SYNTAX
    for name in ("enumLittleEndianExplicit", "enumLittleEndianImplicit", "enumLosslessRLE"):
        path = pydicos_dx(tmp_path / name / "x.dcs", noise, getattr(syntaxes, name))
        scan = read_dicos(path)
        assert scan.metadata.source_kind is SourceKind.SINGLE_ENERGY
        assert scan.metadata.bag_id == "unknown"  # the toolkit's OOI ID
        assert "DICOS DX" in scan.metadata.source
        view = scan.views[0]
        assert (view.name, view.full_scale, view.pixel_pitch_mm) == ("image", 65535.0,
                                                                     (1.0, 1.0))
        np.testing.assert_array_equal(view.high, noise)
    smooth = np.tile(np.arange(50, dtype=np.uint16) * 1000, (30, 1))
    jpeg = pydicos_dx(tmp_path / "jpeg" / "x.dcs", smooth, syntaxes.enumLosslessJPEG)
    from pydicom.pixels.decoders.base import get_decoder

    if get_decoder(pydicom.uid.JPEGLosslessSV1).is_available:
        np.testing.assert_array_equal(read_dicos(jpeg).views[0].high, smooth)
    else:
        with pytest.raises(UnsupportedTransferSyntaxError) as caught:
            read_dicos(jpeg)
        assert caught.value.field == "(0002,0010) Transfer Syntax UID"
        assert "JPEG Lossless" in str(caught.value) and "pylibjpeg" in str(caught.value)


def test_rle_and_sign_minus_one_import(tmp_path: Path) -> None:
    source = single_file(tmp_path)
    original = read_dicos(source).views[0].high

    def compress(ds: Dataset) -> None:
        ds.compress(RLELossless, encoding_plugin="pydicom")

    rle = mutate(source, tmp_path / "rle" / "x.dcs", compress)
    assert pydicom.dcmread(rle).file_meta.TransferSyntaxUID == RLELossless
    np.testing.assert_array_equal(read_dicos(rle).views[0].high, original)

    def foreign_inverted(ds: Dataset) -> None:
        del ds[0x00110010]  # no Screener block: the full scale is 2**Bits Stored - 1
        for tag in [e.tag for e in ds if e.tag.group == 0x0011]:
            del ds[tag]
        ds.PixelIntensityRelationshipSign = -1

    inverted = mutate(source, tmp_path / "inv" / "x.dcs", foreign_inverted)
    np.testing.assert_array_equal(read_dicos(inverted).views[0].high, 4095 - original)


# --------------------------------------------------------------------------- bad files


def bad(error: type[ScanFormatError], path: Path | list[Path], field: str,
        limits: ScanLimits | None = None) -> ScanFormatError:
    with pytest.raises(error) as caught:
        read_dicos(path, limits)
    exc = caught.value
    assert type(exc) is error
    assert exc.field.startswith(field), exc.field
    given = path if isinstance(path, list) else [path]
    assert str(exc).startswith(f"{exc.path}: {exc.field}: ")
    assert exc.path in given or exc.path.parent in [p.parent for p in given] + given
    assert "\n" not in str(exc)
    return exc


def test_files_that_are_not_dicos_dx_are_refused(tmp_path: Path) -> None:
    source = single_file(tmp_path)
    missing = tmp_path / "nowhere.dcs"
    bad(ScanFileNotFoundError, missing, "file")
    empty = tmp_path / "empty" / "e.dcs"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    bad(TruncatedScanError, empty, "file")
    junk = tmp_path / "junk" / "j.dcs"
    junk.parent.mkdir()
    junk.write_bytes(np.random.default_rng(1).bytes(4000))
    bad(NotADicosFileError, junk, "file")
    # another DICOM object: a Threat Detection Report, and a medical CT image
    tdr = write_machine_tdr(tmp_path / "tdr" / "r.dcs", source,
                            AiResult(AiStatus.OK, "d", SHA, ()), decision_time=WHEN,
                            processing_ms=5.0)
    exc = bad(UnsupportedDicosObjectError, tdr, "(0008,0016) SOP Class UID")
    assert "Threat Detection Report" in exc.problem

    def ct(ds: Dataset) -> None:
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"

    bad(UnsupportedDicosObjectError, mutate(source, tmp_path / "ct" / "c.dcs", ct),
        "(0008,0016) SOP Class UID")


@pytest.mark.parametrize(("name", "change", "error", "field"), [
    ("no-pixels", lambda ds: ds.__delitem__("PixelData"), MissingFieldError,
     "(7FE0,0010) Pixel Data"),
    ("32-bit", lambda ds: setattr(ds, "BitsAllocated", 32), WrongDtypeError,
     "(0028,0100) Bits Allocated"),
    ("signed", lambda ds: setattr(ds, "PixelRepresentation", 1), WrongDtypeError,
     "(0028,0103) Pixel Representation"),
    ("rgb", lambda ds: setattr(ds, "SamplesPerPixel", 3), UnsupportedDicosImageError,
     "(0028,0002) Samples per Pixel"),
    ("log", lambda ds: setattr(ds, "PixelIntensityRelationship", "LOG"),
     UnsupportedDicosImageError, "(0028,1040) Pixel Intensity Relationship"),
    ("no-rows", lambda ds: ds.__delitem__("Rows"), MissingFieldError, "(0028,0010) Rows"),
    ("no-scan-uid", lambda ds: ds.__delitem__("StudyInstanceUID"), MissingFieldError,
     "(0020,000D) Scan Instance UID"),
    ("no-time", lambda ds: [ds.__delitem__(k) for k in ("AcquisitionDateTime",
                                                       "ContentDate", "StudyDate")],
     MissingFieldError, "(0008,0020) Scan Date"),
])
def test_bad_attributes_name_the_file_and_field(tmp_path: Path, name: str, change: Any,
                                                error: type[ScanFormatError],
                                                field: str) -> None:
    bad(error, mutate(single_file(tmp_path), tmp_path / name / "x.dcs", change), field)


def test_truncated_compressed_and_oversized_files(tmp_path: Path) -> None:
    source = single_file(tmp_path)
    cut = tmp_path / "cut" / "x.dcs"
    cut.parent.mkdir()
    cut.write_bytes(source.read_bytes()[:-100])
    bad(TruncatedScanError, cut, "(7FE0,0010) Pixel Data")

    def jpeg(ds: Dataset) -> None:
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
        ds.PixelData = pydicom.encaps.encapsulate([b"\xff\xd8\xff\xd9"])
        ds["PixelData"].VR = "OB"

    exc = bad(UnsupportedTransferSyntaxError, mutate(source, tmp_path / "jpg" / "x.dcs", jpeg),
              "(0002,0010) Transfer Syntax UID")
    assert "lossy" in exc.problem
    bad(ScanTooLargeError, source, "(0028,0010) Rows", ScanLimits(max_view_pixels=100))


def test_scans_whose_files_do_not_fit_together(tmp_path: Path) -> None:
    _, files = exported(tmp_path, views=2)
    files[1].unlink()  # the top view's low energy
    exc = bad(DicosGroupError, files[0], "(0011,100B) Screener files in scan")
    assert "3 were found" in exc.problem
    _, other = exported(tmp_path, "other", seed=3)
    bad(DicosGroupError, [files[0], other[0]], "(0020,000D) Scan Instance UID")
    for path in other:
        path.rename(tmp_path / "dx" / path.name)
    bad(DicosGroupError, tmp_path / "dx", "(0020,000D) Scan Instance UID")
    # a foreign scan (no Screener block) with a low energy and no high
    _, pair = exported(tmp_path, "pair")

    def strip(ds: Dataset) -> None:
        for tag in [e.tag for e in ds if e.tag.group == 0x0011]:
            del ds[tag]

    low = mutate(pair[1], tmp_path / "lonely" / "low.dcs", strip)
    bad(DicosGroupError, low, "(0008,0008) Image Type")


# --------------------------------------------------------------------------- reports


def ai_result(*detections: AiDetection) -> AiResult:
    return AiResult(AiStatus.OK, "tiny-threats 0.0.1", SHA, tuple(detections))


KNIFE = AiDetection("top", (3.5, 4.25, 20.0, 30.0), "knife", "knife", 0.87)
LAPTOP = AiDetection("side", (1.0, 2.0, 10.0, 12.0), "laptop", "benign", 0.5)


def test_category_mapping() -> None:
    assert [dicos_category(c, "x") for c in ("gun", "knife", "ied", "other", "benign")] == \
        ["PI", "PI", "EXPLOSIVE", "ANOMALY", "OTHER"]
    assert dicos_category("benign", "Laptop") == "LAPTOP"


def threat_items(path: Path) -> list[Dataset]:
    ds = pydicom.dcmread(path)
    return list(ds[0x40101011].value) if 0x40101011 in ds else []


@needs_pydicos
def test_machine_tdr_read_back_by_the_toolkit(tmp_path: Path) -> None:
    """pydicos gives everything but the references: its per-PTO ReferencedInstance
    returns the TDR's own UIDs (a pydicos bug), so those are read with pydicom."""
    _, files = exported(tmp_path, views=2)
    path = write_machine_tdr(tmp_path / "machine.dcs", files[0], ai_result(KNIFE, LAPTOP),
                             decision_time=WHEN, processing_ms=12.5)
    report = pydicos.TDRLoader(str(path)).get_data()
    assert report["TDRType"] == toolkit.TDR_TYPE.enumMachine
    assert report["AlarmDecision"] == toolkit.ALARM_DECISION.enumAlarm
    assert report["AlarmDecisionDateTime"] == {"date": (2025, 1, 2), "time": (3, 4, 5, 600000)}
    assert report["ATR"]["manufacturer"] == "tiny-threats 0.0.1"
    assert report["ATR"]["version"] == SHA
    assert report["OOIID"] == "BAG-0000"
    ptos = report["PTOs"]
    assert len(ptos) == 2
    knife, laptop = ptos
    assert (knife["Base"]["x"], knife["Base"]["y"], knife["Extent"]["x"],
            knife["Extent"]["y"]) == (3.5, 4.25, 16.5, 25.75)
    assert [(p["x"], p["y"]) for p in knife["Polygon"]] == [(3.5, 4.25), (20.0, 4.25),
                                                            (20.0, 30.0), (3.5, 30.0)]
    assert knife["Assessment"]["category"] == toolkit.THREAT_CATEGORY.enumProhibitedItem
    assert knife["Assessment"]["flag"] == toolkit.ASSESSMENT_FLAG.enumThreat
    assert knife["Assessment"]["description"] == "knife"
    assert knife["Assessment"]["probability"] == pytest.approx(0.87, abs=1e-6)
    assert laptop["Assessment"]["category"] == toolkit.THREAT_CATEGORY.enumLaptop
    assert laptop["Assessment"]["flag"] == toolkit.ASSESSMENT_FLAG.enumNoThreat
    assert laptop["Assessment"]["probability"] == pytest.approx(0.5)
    # the references, with pydicom
    dx = [pydicom.dcmread(f) for f in files]
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == TDR_STORAGE and ds.StudyInstanceUID == dx[0].StudyInstanceUID
    assert [r.ReferencedSOPInstanceUID for r in ds.ReferencedStudySequence] == \
        [d.SOPInstanceUID for d in dx]
    for item, images in zip(threat_items(path), (dx[:2], dx[2:]), strict=True):
        refs = item.PTORepresentationSequence[0].ReferencedInstanceSequence
        assert [r.ReferencedSOPInstanceUID for r in refs] == [d.SOPInstanceUID for d in images]
        assert {r.ReferencedSOPClassUID for r in refs} == {DX_FOR_PROCESSING}


@needs_pydicos
def test_clear_and_operator_tdrs_read_back_by_the_toolkit(tmp_path: Path) -> None:
    _, files = exported(tmp_path, views=2)
    clear = write_machine_tdr(tmp_path / "clear.dcs", tmp_path / "dx", ai_result(LAPTOP),
                              decision_time=WHEN, processing_ms=3.0)
    report = pydicos.TDRLoader(str(clear)).get_data()
    assert report["AlarmDecision"] == toolkit.ALARM_DECISION.enumClear
    assert len(report["PTOs"]) == 1

    suspect = write_operator_tdr(tmp_path / "op.dcs", files, Decision.SUSPECT,
                                 [Mark("top", (1, 2, 30, 20))], decision_time=WHEN,
                                 operator="sim-op-1", response_ms=2300.0,
                                 ai=ai_result(KNIFE))
    report = pydicos.TDRLoader(str(suspect)).get_data()
    assert report["TDRType"] == toolkit.TDR_TYPE.enumOperator
    assert report["AlarmDecision"] == toolkit.ALARM_DECISION.enumAlarm
    assert report["ATR"]["version"] == SHA  # the AI the screener saw
    [mark] = report["PTOs"]
    assert (mark["Base"]["x"], mark["Base"]["y"], mark["Extent"]["x"],
            mark["Extent"]["y"]) == (1, 2, 29, 18)
    person = pydicom.dcmread(suspect).OperatorIdentificationSequence[0]
    assert person.PersonIdentificationCodeSequence[0].CodeValue == "sim-op-1"

    unmarked = write_operator_tdr(tmp_path / "op2.dcs", files, Decision.SUSPECT, [],
                                  decision_time=WHEN, operator="op", response_ms=1.0)
    ptos = pydicos.TDRLoader(str(unmarked)).get_data()["PTOs"]
    assert [(p["Extent"]["x"], p["Extent"]["y"]) for p in ptos] == [(64, 40), (64, 40)]
    cleared = write_operator_tdr(tmp_path / "op3.dcs", files, Decision.CLEAR, [],
                                 decision_time=WHEN, operator="op", response_ms=1.0)
    report = pydicos.TDRLoader(str(cleared)).get_data()
    assert report["AlarmDecision"] == toolkit.ALARM_DECISION.enumClear
    assert report["PTOs"] == []


def test_tdr_refuses_what_dicos_cannot_hold(tmp_path: Path) -> None:
    _, files = exported(tmp_path)
    target = tmp_path / "r.dcs"

    def refused(field: str, **changes: Any) -> None:
        args: dict[str, Any] = {"ai": ai_result(KNIFE), "decision_time": WHEN,
                                "processing_ms": 1.0, **changes}
        with pytest.raises(DicosExportError) as caught:
            write_machine_tdr(target, files, **args)
        assert caught.value.field == field and str(caught.value).startswith(str(target))

    refused("ai.model_sha256", ai=dataclasses.replace(ai_result(), model_sha256="sha256:" + SHA))
    refused("ai.model_sha256", ai=dataclasses.replace(ai_result(), model_sha256=None))
    refused("ai.status", ai=AiResult.unavailable("d", "model missing", SHA))
    refused("detections[0].view", ai=ai_result(dataclasses.replace(KNIFE, view="front")))
    refused("detections[0].box", ai=ai_result(dataclasses.replace(KNIFE, box=(3, 4, 3, 9))))
    refused("detections[0].box", ai=ai_result(dataclasses.replace(KNIFE, box=(0, 0, 65, 9))))
    refused("detections[0].score", ai=ai_result(dataclasses.replace(KNIFE, score=1.5)))
    refused("decision_time", decision_time=datetime(2025, 1, 1))
    refused("processing_ms", processing_ms=0.0)
    with pytest.raises(DicosExportError) as caught:
        write_operator_tdr(target, files, Decision.SUSPECT, [], decision_time=WHEN,
                           operator="an-operator-id-of-20", response_ms=1.0)
    assert caught.value.field == "operator"
    assert not target.exists()


def test_dx_instances_name_views_as_the_import_does(tmp_path: Path) -> None:
    _, files = exported(tmp_path, views=2)
    instances = dx_instances(files[3])
    assert [(i.view, i.energy, i.path) for i in instances] == [
        ("top", "high", files[0]), ("top", "low", files[1]),
        ("side", "high", files[2]), ("side", "low", files[3])]
    assert len({i.scan_uid for i in instances}) == 1


# --------------------------------------------------------------------------- commands


@pytest.fixture
def run(isolated_cli: Run) -> Run:
    return isolated_cli


def one_line_error(code: int, out: str, err: str, path: Path) -> str:
    assert code == 2 and out == ""
    assert err.startswith("screener: error: ") and err.count("\n") == 1, err
    assert str(path) in err and "Traceback" not in err
    return err


def test_scan_info_store_and_export(run: Run, tmp_path: Path) -> None:
    scan, _ = make_synthetic_scan(views=2)
    native = write_scan(tmp_path / "bag.h5", scan)
    code, out, err = run("scan", "export-dicos", native, "--out", tmp_path / "out")
    assert code == 0, err
    files = sorted((tmp_path / "out").glob("*.dcs"))
    assert len(files) == 4 and "4 DICOS DX file(s) of bag BAG-0000" in out
    code, out, err = run("scan", "info", files[0])
    assert code == 0, err
    assert "DICOS DX image, imported" in out and "dicos_files      4 of this scan" in out
    assert "source_kind      dual-energy" in out and "view side" in out
    code, out, err = run("scan", "info", files[0], "--json")
    summary = json.loads(out)
    assert summary["sha256"] == hashlib.sha256(files[0].read_bytes()).hexdigest()
    assert sorted(summary["dicos_files"]) == [str(f) for f in files]
    code, out, err = run("scan", "store", files[2])
    assert code == 0, err
    assert "imported DICOS DX image as a dual-energy scan" in out
    junk = tmp_path / "bad.dcs"
    junk.write_bytes(b"not dicom at all" * 20)
    err = one_line_error(*run("scan", "info", junk), junk)
    assert "file: not a DICOM file" in err


def test_detect_writes_a_tdr(run: Run, tmp_path: Path) -> None:
    scan, _ = make_synthetic_scan(views=2)
    native = write_scan(tmp_path / "bag.h5", scan)
    out_tensor = v8_tensor([(32, 32, 32, 16)], [[0.1, 0.8, 0.0]])
    model = write_model(tmp_path / "m.onnx", out_tensor, channels=1)
    write_manifest(tmp_path / "m.json", manifest_document(sha256=sha256_of(model)))
    code, out, err = run("detect", native, "--model", model, "--tdr",
                         tmp_path / "report" / "r.dcs", "--json")
    assert code == 0, err
    tdr = json.loads(out)["tdr"]
    assert tdr["alarm_decision"] == "ALARM" and tdr["objects"] == 2
    assert len(tdr["dx_exported"]) == 4
    ds = pydicom.dcmread(tdr["path"])
    # pydicom 3.0 checks a text value's length before it strips the pad byte, so a
    # 64-character last value of odd total length draws a spurious "65 > 64" warning
    with pydicom.config.disable_value_validation():
        algorithm = list(ds.ThreatDetectionAlgorithmAndVersion)
    assert algorithm == ["tiny-threats 0.0.1", sha256_of(model)]
    assert ds.AlarmDecision == "ALARM" and ds.NumberOfTotalObjects == 2
    # on a DICOS file the report refers to that file's scan; nothing is exported
    code, out, err = run("detect", tdr["dx_exported"][0], "--model", model, "--tdr",
                         tmp_path / "again.dcs")
    assert code == 0, err
    assert "tdr      " in out and "dx       " not in out
    if pydicos is not None:
        assert len(pydicos.TDRLoader(str(tmp_path / "again.dcs")).get_data()["PTOs"]) == 2
