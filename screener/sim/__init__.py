"""Physically grounded dual-energy scan simulator: 3D scenes of bags and cargo, projected."""
