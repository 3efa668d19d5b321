"""Qt-free display pipeline: dual-energy material classes, colour lookup, enhancement.

Modules (import them directly):

* :mod:`~screener.imaging.calibration`: the ``(A_high, A_low)`` -> Zeff and material-class
  lookup built from simulated step wedges (``get_calibration``, ``classify``).
* :mod:`~screener.imaging.build_calibration`: regenerates ``data/`` and
  ``docs/calibration.png``.

See docs/calibration.md.
"""
