"""Physics of the dual-energy X-ray simulator: materials, attenuation, spectra, detector.

Modules (import them directly; this package imports nothing so that importing the material
library stays cheap):

* :mod:`~screener.physics.materials`: the material library (``get_material``).
* :mod:`~screener.physics.tables`: mass attenuation table (``load_attenuation``).
* :mod:`~screener.physics.profiles`: scanner profiles (``get_profile``).
* :mod:`~screener.physics.detector`: transmission, blur and noise.
* :mod:`~screener.physics.build_tables`: regenerates ``data/`` (needs xraylib, spekpy).

See docs/physics.md.
"""
