"""Factories for the things found in bags: benign items and threats, built from convex parts.

* Registries: :mod:`~screener.sim.items.threats` (``THREAT_MAKERS``) and
  :mod:`~screener.sim.items.benign` (``BENIGN_MAKERS``), one maker per label.
* Threats by family: ``guns`` (``pistols``, ``revolvers``, ``triggers``, ``magazines``,
  ``cartridges``), ``ammunition``, ``knives`` (``knife_parts``, ``box_cutters``), ``ieds``
  (``ied_components``, ``ied_charges``) and ``grenades``.
* Benign things by kind: ``clothing`` (and shoes), ``books``, ``electronics``, ``bottles``,
  ``toiletries``, ``umbrellas`` and ``small_metal`` (keys, coins, belt buckles).
* Shared helpers, one home each: ``outlines`` (2-D outlines), ``parts`` (3-D pieces, groups
  of parts, finished articles), ``random_draws`` (uniform, pick, chance) and ``soundness``
  (construction checks for tests).
"""
