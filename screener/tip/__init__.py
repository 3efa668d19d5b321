"""Threat Image Projection: the FTI library, the projector, the scheduler, SDT scoring,
blind tests and supervisor reports (docs/tip.md)."""
