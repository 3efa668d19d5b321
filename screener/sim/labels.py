"""The simulator's object classes and the threat category each threat class belongs to.

Labels are the ground truth the detector learns and TIP scores by; the category is what a
supervisor filters scores by (DESIGN.md: guns, knives, IEDs, other).
"""

from __future__ import annotations

from enum import StrEnum


class ThreatCategory(StrEnum):
    GUN = "gun"
    KNIFE = "knife"
    IED = "ied"
    OTHER = "other"


#: Threat class -> category. Every threat the simulator can place is listed here.
THREAT_CLASSES: dict[str, ThreatCategory] = {
    "handgun": ThreatCategory.GUN,
    "gun_part": ThreatCategory.GUN,
    "ammunition": ThreatCategory.GUN,
    "knife": ThreatCategory.KNIFE,
    "ied": ThreatCategory.IED,
    "grenade": ThreatCategory.IED,
}

#: Benign classes, labelled too so that evaluation can count confusions.
BENIGN_CLASSES: tuple[str, ...] = (
    "clothing",
    "shoe",
    "book",
    "laptop",
    "phone",
    "charger",
    "cable",
    "bottle",
    "toiletry",
    "umbrella",
    "keys",
    "coins",
    "belt_buckle",
)
