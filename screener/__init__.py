"""Screener: an open X-ray security-screening workstation."""

__version__ = "0.1.0"
