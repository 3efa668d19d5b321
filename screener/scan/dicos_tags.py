"""DICOS (NEMA IIC 1 v03) identifiers Screener reads and writes: SOP classes, transfer
syntaxes, the tags pydicom's dictionary lacks (with their DICOS value representation) and
Screener's private block.

DICOS reuses DICOM tags under security-screening names: the *Object of Inspection* (OOI)
is DICOM's Patient (OOI ID = Patient ID (0010,0020)) and the *Scan* is DICOM's Study (Scan
Instance UID = Study Instance UID (0020,000D)). Error messages name a field as
``(gggg,eeee) Name`` with the DICOS name (:func:`field`).
"""

from __future__ import annotations

from typing import Final

# ----------------------------------------------------------------------- SOP classes
#: DICOS Digital X-Ray Image Storage - For Processing (what Screener writes)
DX_FOR_PROCESSING: Final = "1.2.840.10008.5.1.4.1.1.501.2.2"
#: DICOS Digital X-Ray Image Storage - For Presentation (read as well)
DX_FOR_PRESENTATION: Final = "1.2.840.10008.5.1.4.1.1.501.2.1"
#: DICOS Threat Detection Report Storage
TDR_STORAGE: Final = "1.2.840.10008.5.1.4.1.1.501.3"
DX_CLASSES: Final = frozenset({DX_FOR_PROCESSING, DX_FOR_PRESENTATION})
#: Names of the DICOS classes that are not DX images, for the "wrong object" message.
OTHER_DICOS_CLASSES: Final = {
    "1.2.840.10008.5.1.4.1.1.501.1": "DICOS CT Image",
    TDR_STORAGE: "DICOS Threat Detection Report",
    "1.2.840.10008.5.1.4.1.1.501.4": "DICOS 2D AIT",
    "1.2.840.10008.5.1.4.1.1.501.5": "DICOS 3D AIT",
    "1.2.840.10008.5.1.4.1.1.501.6": "DICOS Quadrupole Resonance",
}
#: Modalities a DX may carry: the Stratovan toolkit writes XRAY, some writers DX.
DX_MODALITIES: Final = frozenset({"XRAY", "DX"})
#: DICOS versions the reference toolkit reads (and so do we); Screener writes V03.
DICOS_VERSION: Final = "V03"

# ----------------------------------------------------------------- transfer syntaxes
IMPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1"
DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1.99"
EXPLICIT_VR_BIG_ENDIAN: Final = "1.2.840.10008.1.2.2"
RLE_LOSSLESS: Final = "1.2.840.10008.1.2.5"
#: Native (uncompressed) pixel data: read with ``numpy.frombuffer``, no decoder.
NATIVE_SYNTAXES: Final = frozenset({IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN,
                                    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
                                    EXPLICIT_VR_BIG_ENDIAN})
#: Lossless compressions decoded through pydicom when its decoder is available (RLE
#: always is: pydicom decodes it in pure Python; the others need pylibjpeg or GDCM).
LOSSLESS_COMPRESSED_SYNTAXES: Final = {
    RLE_LOSSLESS: "RLE Lossless",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless SV1",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
    "1.2.840.10008.1.2.4.201": "HTJ2K Lossless",
    "1.2.840.10008.1.2.4.202": "HTJ2K Lossless RPCL",
}

# ----------------------------------------------- tags pydicom's dictionary lacks or mistypes
#: (0002,0004) DICOS Version in the file meta group; the toolkit's reader requires it
META_DICOS_VERSION: Final = 0x00020004
#: (0008,0118) Image Origin (CS "MACHINE"); DICOM's Mapping Resource UID (UI) there
IMAGE_ORIGIN: Final = 0x00080118
#: (0008,2108) Coordinate System (CS "LHS")
COORDINATE_SYSTEM: Final = 0x00082108
#: (4300,0902) Effective Energy (FL, keV)
EFFECTIVE_ENERGY: Final = 0x43000902
#: (6100,0024) Series View (US), (6100,0026) Series View Description (LO)
SERIES_VIEW: Final = 0x61000024
SERIES_VIEW_DESCRIPTION: Final = 0x61000026
#: (6100,0030) Series Energy (US), (6100,0031) Series Energy Description (LO)
SERIES_ENERGY: Final = 0x61000030
SERIES_ENERGY_DESCRIPTION: Final = 0x61000031
#: (4010,1075) Image Scale Representation: FD for DICOS (pydicom's dictionary says DS)
IMAGE_SCALE_REPRESENTATION: Final = 0x40101075
#: (4010,1080/1081/1082) PTO processing start and end (DT) and total time in ms (FL)
PTO_PROCESSING_START: Final = 0x40101080
PTO_PROCESSING_END: Final = 0x40101081
PTO_PROCESSING_TIME: Final = 0x40101082

#: DICOS names of the tags errors mention (DICOS's own name where it renames DICOM's).
TAG_NAMES: Final = {
    0x00020002: "Media Storage SOP Class UID",
    0x00020010: "Transfer Syntax UID",
    0x00080008: "Image Type",
    0x00080016: "SOP Class UID",
    0x00080018: "SOP Instance UID",
    0x00080020: "Scan Date",
    0x00080030: "Scan Time",
    0x0008002A: "Acquisition DateTime",
    0x00080060: "Modality",
    0x00100020: "OOI ID",
    0x00181164: "Imager Pixel Spacing",
    0x00280030: "Pixel Spacing",
    0x0020000D: "Scan Instance UID",
    0x00280002: "Samples per Pixel",
    0x00280004: "Photometric Interpretation",
    0x00280008: "Number of Frames",
    0x00280010: "Rows",
    0x00280011: "Columns",
    0x00280100: "Bits Allocated",
    0x00280101: "Bits Stored",
    0x00280102: "High Bit",
    0x00280103: "Pixel Representation",
    0x00281040: "Pixel Intensity Relationship",
    0x00281041: "Pixel Intensity Relationship Sign",
    0x00281052: "Rescale Intercept",
    0x00281053: "Rescale Slope",
    0x7FE00010: "Pixel Data",
    SERIES_VIEW: "Series View",
    SERIES_VIEW_DESCRIPTION: "Series View Description",
    SERIES_ENERGY: "Series Energy",
    SERIES_ENERGY_DESCRIPTION: "Series Energy Description",
}

# --------------------------------------------------------------- Screener's private block
#: Screener's private block: what DICOS has no attribute for, so that a scan exported by
#: Screener reads back exactly. Other readers ignore it (the toolkit warns and goes on).
PRIVATE_GROUP: Final = 0x0011
PRIVATE_CREATOR: Final = "SCREENER SCAN 1"
#: element offset (the xx of (0011,10xx)) -> (VR, meaning); text is LT (no 64-char limit)
PRIVATE_BAG_ID: Final = 0x01
PRIVATE_STATION: Final = 0x02
PRIVATE_LANE: Final = 0x03
PRIVATE_SOURCE: Final = 0x04
PRIVATE_SOURCE_KIND: Final = 0x05
PRIVATE_SCANNER_PROFILE: Final = 0x06
PRIVATE_CHANNEL_HIGH: Final = 0x07
PRIVATE_VIEW_NAME: Final = 0x08
PRIVATE_BELT_DIRECTION: Final = 0x09
PRIVATE_FULL_SCALE: Final = 0x0A
PRIVATE_FILES_IN_SCAN: Final = 0x0B
PRIVATE_STORED_DTYPE: Final = 0x0C
PRIVATE_CHANNEL_LOW: Final = 0x0D
PRIVATE_ELEMENTS: Final = {
    PRIVATE_BAG_ID: ("LT", "bag id"),
    PRIVATE_STATION: ("LT", "station"),
    PRIVATE_LANE: ("LT", "lane"),
    PRIVATE_SOURCE: ("LT", "source"),
    PRIVATE_SOURCE_KIND: ("LT", "source kind"),
    PRIVATE_SCANNER_PROFILE: ("LT", "scanner profile"),
    PRIVATE_CHANNEL_HIGH: ("LT", "high-energy channel description"),
    PRIVATE_VIEW_NAME: ("LT", "view name"),
    PRIVATE_BELT_DIRECTION: ("LT", "belt direction"),
    PRIVATE_FULL_SCALE: ("FD", "full scale"),
    PRIVATE_FILES_IN_SCAN: ("US", "files in scan"),
    PRIVATE_STORED_DTYPE: ("LT", "dtype before export"),
    PRIVATE_CHANNEL_LOW: ("LT", "low-energy channel description"),
}


def field(tag: int) -> str:
    """``(0028,0100) Bits Allocated``: how an error names a DICOS attribute."""
    name = TAG_NAMES.get(tag)
    if name is None:
        from pydicom.datadict import dictionary_description

        try:
            name = dictionary_description(tag)
        except KeyError:
            name = ""
    text = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return f"{text} {name}" if name else text


def private_field(offset: int) -> str:
    """``(0011,100B) Screener files in scan``."""
    meaning = PRIVATE_ELEMENTS[offset][1]
    return f"({PRIVATE_GROUP:04X},10{offset:02X}) Screener {meaning}"
