"""Typed errors of the FTI library format (docs/tip.md, "FTI library").

A library file fails in the same ways a scan file does (a missing field, a wrong dtype, a
shape mismatch, NaN, a value out of range, a newer format version), so each error here is
also the matching :mod:`screener.errors` class: ``except WrongDtypeError`` catches a bad
library as well as a bad scan. What differs is the advice at the end of the message, and
that every error is also an :class:`FtiLibraryError`. Each names the file and the field
(``/index/category``, ``/items/<fti_id>/low``, ``metadata.added`` in a ``.npz``).
"""

from __future__ import annotations

from screener.errors import (
    InvalidMetadataError,
    MissingFieldError,
    NonFiniteValueError,
    NotAScanFileError,
    ScanFileNotFoundError,
    ScanFormatError,
    ScanTooLargeError,
    ShapeMismatchError,
    TruncatedScanError,
    UnsupportedFormatVersionError,
    ValueOutOfRangeError,
    WrongDtypeError,
    WrongRankError,
)


class FtiLibraryError(ScanFormatError):
    """An FTI library file, or an exported item, cannot be accepted."""

    hint = (
        "Rebuild the library (`screener tip library build`) or import the images again "
        "from their source (docs/tip.md, FTI library)."
    )


class FtiFileNotFoundError(ScanFileNotFoundError, FtiLibraryError):
    """There is no library file (or exported item) at the given path."""


class NotAnFtiLibraryError(FtiLibraryError, NotAScanFileError):
    """The file is not HDF5, or HDF5 but not a Screener FTI library."""

    hint = (
        "Screener reads FTI libraries written by `screener tip library build` or "
        "`write_library`, and folders written by `screener tip library export`."
    )


class TruncatedFtiLibraryError(TruncatedScanError, FtiLibraryError):
    """The file ends before the data it declares, or its HDF5 metadata is damaged."""


class FtiMissingFieldError(FtiLibraryError, MissingFieldError):
    """A required dataset, group, attribute or metadata key is absent."""


class FtiWrongDtypeError(FtiLibraryError, WrongDtypeError):
    """A dataset, attribute or metadata value has a type the format does not allow."""


class FtiWrongRankError(FtiLibraryError, WrongRankError):
    """An image or index column has the wrong number of dimensions."""


class FtiShapeMismatchError(FtiLibraryError, ShapeMismatchError):
    """``high``, ``low`` and ``mask`` (or an index column) disagree in shape or length."""


class FtiNonFiniteValueError(FtiLibraryError, NonFiniteValueError):
    """A transmission image or a number holds NaN or infinity."""


class FtiValueOutOfRangeError(FtiLibraryError, ValueOutOfRangeError):
    """A transmission outside (0, 1], a mask value other than 0 or 1, a pixel outside the
    mask that is not open beam, or a number outside its range."""


class FtiInvalidMetadataError(FtiLibraryError, InvalidMetadataError):
    """A metadata value is present but not valid (a bad date, id, empty text...)."""


class UnknownFtiCategoryError(FtiInvalidMetadataError):
    """A category that is not one of :class:`~screener.tip.fti.FtiCategory`."""


class DuplicateFtiIdError(FtiInvalidMetadataError):
    """Two images share an ``fti_id``, or an appended image's id is already in the file."""


class FtiTooLargeError(FtiLibraryError, ScanTooLargeError):
    """An image declares more pixels than an FTI can have (``MAX_FTI_PIXELS``)."""

    hint = "An FTI is one article cropped to its extent; crop it before adding it."


class UnsupportedFtiLibraryVersionError(UnsupportedFormatVersionError, FtiLibraryError):
    """The library was written by a newer Screener than this one."""


class FtiConflictError(FtiLibraryError):
    """An import brings an ``fti_id`` the target already holds with different content."""

    hint = (
        "Nothing was imported. Give the new image another fti_id, or import into a "
        "library that does not hold the old one."
    )


class FtiNotFoundError(FtiLibraryError):
    """``FtiLibrary.load`` was asked for an ``fti_id`` the library does not hold."""

    hint = "List the library's items (`FtiLibrary.items`) for the ids it holds."
