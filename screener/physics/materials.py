"""The material library: what luggage and cargo contents are made of.

Each material is an elemental composition (mass fractions) and the bulk density at which it
is found in a bag (folded clothing is mostly air, so ``cotton`` is 0.4 g/cm^3, not the 1.5 of
the fibre). Compositions come from chemical formulas and typical recipes; the sources are in
the comment beside each entry and summarised in docs/physics.md. Attenuation depends on the
composition only through ``mu/rho`` (cm^2/g); the density only converts a path length in cm
to a mass thickness in g/cm^2.

Changing a composition here changes the physics: regenerate the tables with
``python -m screener.physics.build_tables`` (the loader refuses stale tables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from screener.errors import SimulationError
from screener.physics.elements import ATOMIC_WEIGHT, formula, mix


@dataclass(frozen=True)
class Material:
    """A homogeneous material: composition by mass and bulk density."""

    name: str
    description: str
    density: float  # g/cm^3, bulk density as found in luggage
    composition: Mapping[str, float]  # element symbol -> mass fraction, sums to 1

    def __post_init__(self) -> None:
        total = sum(self.composition.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"material {self.name!r}: mass fractions sum to {total}, not 1")
        unknown = set(self.composition) - set(ATOMIC_WEIGHT)
        if unknown:
            raise ValueError(f"material {self.name!r}: unknown elements {sorted(unknown)}")
        if self.density <= 0.0:
            raise ValueError(f"material {self.name!r}: density must be positive")


# Compounds, from their formulas (atoms per repeat unit).
_CELLULOSE = formula({"C": 6, "H": 10, "O": 5})
_WATER = formula({"H": 2, "O": 1})
_POLYETHYLENE = formula({"C": 2, "H": 4})
_CH2 = formula({"C": 1, "H": 2})  # paraffin / mineral oil, same as polyethylene
_GLYCEROL = formula({"C": 3, "H": 8, "O": 3})
_CETYL_ALCOHOL = formula({"C": 16, "H": 34, "O": 1})
_POM = formula({"C": 1, "H": 2, "O": 1})
_STYRENE = formula({"C": 8, "H": 8})
_BUTADIENE = formula({"C": 4, "H": 6})
_ACRYLONITRILE = formula({"C": 3, "H": 3, "N": 1})
_POLYCARBONATE = formula({"C": 16, "H": 14, "O": 3})  # bisphenol-A polycarbonate
_NYLON66 = formula({"C": 12, "H": 22, "N": 2, "O": 2})
_SUCROSE = formula({"C": 12, "H": 22, "O": 11})
_RDX = formula({"C": 3, "H": 6, "N": 6, "O": 6})
_TNT = formula({"C": 7, "H": 5, "N": 3, "O": 6})
_ISOPRENE = formula({"C": 5, "H": 8})
_STEARIC_ACID = formula({"C": 18, "H": 36, "O": 2})
_DGEBA = formula({"C": 21, "H": 24, "O": 4})  # epoxy resin (bisphenol-A diglycidyl ether)
_NACL = formula({"Na": 1, "Cl": 1})
_CACO3 = formula({"Ca": 1, "C": 1, "O": 3})
_KAOLIN = formula({"Al": 2, "Si": 2, "O": 9, "H": 4})
_SIO2 = formula({"Si": 1, "O": 2})
_NA2O = formula({"Na": 2, "O": 1})
_CAO = formula({"Ca": 1, "O": 1})
_MGO = formula({"Mg": 1, "O": 1})
_AL2O3 = formula({"Al": 2, "O": 3})
_B2O3 = formula({"B": 2, "O": 3})
_CR2O3 = formula({"Cr": 2, "O": 3})
_ZRO2 = formula({"Zr": 1, "O": 2})
_Y2O3 = formula({"Y": 2, "O": 3})
_HFO2 = formula({"Hf": 1, "O": 2})
_ZNO = formula({"Zn": 1, "O": 1})
_LICOO2 = formula({"Li": 1, "Co": 1, "O": 2})
_LIPF6 = formula({"Li": 1, "P": 1, "F": 6})
_EC = formula({"C": 3, "H": 4, "O": 3})  # ethylene carbonate
_DMC = formula({"C": 3, "H": 6, "O": 3})  # dimethyl carbonate
_PVDF = formula({"C": 2, "H": 2, "F": 2})

# Collagen (the protein of hide), elemental analysis of bovine collagen: C 50.0, H 6.6,
# N 17.8, O 25.2, S 0.4 % by mass (typical protein values, e.g. Bowes & Kenten 1948).
_COLLAGEN = mix({"C": 0.500, "H": 0.066, "N": 0.178, "O": 0.252, "S": 0.004})
# E-glass fibre, ASTM D578 typical oxide composition.
_E_GLASS = mix([(_SIO2, 0.54), (_CAO, 0.22), (_AL2O3, 0.14), (_B2O3, 0.08), (_MGO, 0.01),
                (_NA2O, 0.01)])  # fmt: skip
# Dry wood: C 50 %, H 6 %, O 44 % (USDA FPL Wood Handbook, ch. on wood chemistry).
_DRY_WOOD = mix({"C": 0.50, "H": 0.06, "O": 0.44})


def _m(name: str, description: str, density: float, composition: Mapping[str, float]) -> Material:
    return Material(name, description, density, MappingProxyType(dict(composition)))


_ALL: tuple[Material, ...] = (
    # --- organics (Zeff below about 10) ---
    _m("cotton", "folded clothing: cotton (cellulose with 8 % moisture regain), mostly air",
       0.40, mix([(_CELLULOSE, 0.92), (_WATER, 0.08)])),
    _m("leather", "chrome-tanned leather: collagen, 4 % Cr2O3 (ISO 5398 range 2.5-5 %), "
       "14 % moisture", 0.90, mix([(_COLLAGEN, 0.82), (_CR2O3, 0.04), (_WATER, 0.14)])),
    # Tyre-tread style compound: 100 phr natural rubber, 50 phr carbon black, 4 phr ZnO,
    # 2 phr sulfur, 2 phr stearic acid.
    _m("rubber", "vulcanised natural rubber with carbon black and zinc oxide (shoe soles, "
       "tyres)", 1.15, mix([(_ISOPRENE, 100), ({"C": 1.0}, 50), (_ZNO, 4), ({"S": 1.0}, 2),
                            (_STEARIC_ACID, 2)])),
    _m("polyethylene", "high-density polyethylene (C2H4)n", 0.95, _POLYETHYLENE),
    _m("pom", "polyoxymethylene, acetal (CH2O)n", 1.41, _POM),
    # ABS: typical 25 % acrylonitrile, 20 % butadiene, 55 % styrene by mass.
    _m("abs", "ABS suitcase-shell plastic (25 % acrylonitrile, 20 % butadiene, 55 % styrene)",
       1.05, mix([(_ACRYLONITRILE, 0.25), (_BUTADIENE, 0.20), (_STYRENE, 0.55)])),
    _m("polycarbonate", "bisphenol-A polycarbonate (C16H14O3)n", 1.20, _POLYCARBONATE),
    _m("nylon", "nylon 6,6 (C12H22N2O2)n", 1.14, _NYLON66),
    # Uncoated printing paper: 10-25 % mineral filler (Papermaking Science and Technology
    # vol. 11); 5 % moisture.
    _m("paper", "paper in books: cellulose with 15 % CaCO3/kaolin filler, 5 % moisture",
       0.80, mix([(_CELLULOSE, 0.80), (_CACO3, 0.10), (_KAOLIN, 0.05), (_WATER, 0.05)])),
    _m("wood", "dry wood (C 50, H 6, O 44 %) with 12 % moisture", 0.60,
       mix([(_DRY_WOOD, 0.88), (_WATER, 0.12)])),
    _m("water", "water, drinks", 1.00, _WATER),
    _m("sugar", "granulated sucrose, bulk", 0.85, _SUCROSE),
    # Composition B: 60 % RDX, 40 % TNT (MIL-C-401), cast density 1.65-1.75.
    _m("explosive", "military explosive, Composition B (60 % RDX, 40 % TNT)", 1.72,
       mix([(_RDX, 0.60), (_TNT, 0.40)])),
    _m("skin_care", "toiletry cream or gel: water, glycerol, mineral oil, cetyl alcohol", 1.00,
       mix([(_WATER, 0.72), (_GLYCEROL, 0.10), (_CH2, 0.14), (_CETYL_ALCOHOL, 0.04)])),
    # --- inorganic / light metals (Zeff about 10-18) ---
    # Soda-lime float glass, typical oxide composition (e.g. Shelby, Introduction to Glass
    # Science and Technology).
    _m("glass", "soda-lime glass (bottles, windows)", 2.50,
       mix([(_SIO2, 0.73), (_NA2O, 0.14), (_CAO, 0.09), (_MGO, 0.03), (_AL2O3, 0.01)])),
    _m("salt", "table salt NaCl, bulk (crystal 2.165)", 1.20, _NACL),
    # FR-4: about 55 % E-glass, 38 % epoxy, 7 % bromine from the TBBPA flame retardant
    # (bromine is typically 15-20 % of the resin).
    _m("fr4", "circuit board laminate FR-4: E-glass fibre, brominated epoxy (no copper)", 1.85,
       mix([(_E_GLASS, 0.55), (_DGEBA, 0.38), ({"Br": 1.0}, 0.07)])),
    _m("silicon", "silicon (chips, wafers)", 2.33, {"Si": 1.0}),
    _m("ceramic", "96 % alumina ceramic", 3.70,
       mix([(_AL2O3, 0.96), (_SIO2, 0.03), (_MGO, 0.01)])),
    _m("aluminium", "aluminium", 2.70, {"Al": 1.0}),
    # Lithium-ion (LiCoO2/graphite) cell stack without its can, by mass: cathode LiCoO2 40 %,
    # graphite 20 %, Cu foil 11 %, Al foil 5 %, electrolyte 15 % (1 M LiPF6 in EC/DMC),
    # separator 4 %, PVDF binder 3 %, carbon black 2 % (typical breakdowns of 18650 cells,
    # e.g. Argonne BatPaC and cell teardown studies).
    _m("li_ion", "lithium-ion cell stack (LiCoO2, graphite, Cu and Al foils, electrolyte) "
       "as a homogeneous mix", 2.50,
       mix([(_LICOO2, 0.40), ({"C": 1.0}, 0.22), ({"Cu": 1.0}, 0.11), ({"Al": 1.0}, 0.05),
            (mix([(_EC, 0.44), (_DMC, 0.44), (_LIPF6, 0.12)]), 0.15), (_POLYETHYLENE, 0.04),
            (_PVDF, 0.03)])),
    # --- metals (Zeff above about 18) ---
    # Ceramic knife blades are yttria-stabilised zirconia, 3Y-TZP: ZrO2 with 3 mol % Y2O3
    # (5.2 % by mass; ISO 13356 for the material) and the 1.8 % hafnia that zirconia carries
    # from its ore, sintered to 6.05 g/cm^3. Real ceramic knives are this, not alumina.
    _m("zirconia", "yttria-stabilised zirconia 3Y-TZP (ceramic knife blades)", 6.05,
       mix([(_ZRO2, 0.930), (_Y2O3, 0.052), (_HFO2, 0.018)])),
    _m("iron", "carbon steel (AISI 1020 type)", 7.85,
       mix({"Fe": 0.9905, "Mn": 0.0045, "C": 0.002, "Si": 0.002, "Cr": 0.001})),
    _m("brass", "yellow brass CuZn37", 8.44, mix({"Cu": 0.63, "Zn": 0.37})),
    _m("copper", "copper", 8.96, {"Cu": 1.0}),
    _m("zinc", "zinc (die-cast parts)", 7.13, {"Zn": 1.0}),
    _m("lead", "lead", 11.35, {"Pb": 1.0}),
    _m("tungsten", "tungsten", 19.25, {"W": 1.0}),
)  # fmt: skip

#: All materials by name, in a fixed order (the order of the attenuation table).
MATERIALS: Mapping[str, Material] = MappingProxyType({m.name: m for m in _ALL})


def get_material(name: str) -> Material:
    """The material called ``name``; :class:`SimulationError` listing valid names if unknown."""
    try:
        return MATERIALS[name]
    except KeyError:
        raise SimulationError(
            f"unknown material {name!r}; valid materials: {', '.join(MATERIALS)}"
        ) from None
