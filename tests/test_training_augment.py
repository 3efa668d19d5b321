"""Photometric augmentation (training/augment.py): each effect only where it applies.

PyTorch is a development-only extra (``pip install -e '.[train]'``): without it these
tests skip, as the workstation never needs it.
"""

from __future__ import annotations

import dataclasses

import pytest

torch = pytest.importorskip("torch", reason="PyTorch (the train extra) is not installed")

from training.augment import AUGMENT_PRESETS, PAD, AugmentConfig, geometry, photometric  # noqa: E402

BASE = AugmentConfig()


def _batch(n: int = 8, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Images in [0, 1] and a content mask whose right quarter is letterbox padding."""
    torch.manual_seed(3)
    images = torch.rand(n, 3, size, size)
    mask = torch.ones(n, 1, size, size)
    mask[..., 3 * size // 4:] = 0.0
    return images, mask


def test_no_effect_leaves_the_content_as_it_was_and_the_padding_grey() -> None:
    images, mask = _batch()
    out = photometric(images, mask, dataclasses.replace(BASE, photometric_p=0.0))
    content = mask.bool().expand_as(images)
    assert torch.equal(out[content], images[content])
    assert torch.allclose(out[~content], torch.full_like(out[~content], PAD))


def test_tone_only_is_the_documented_formula_within_its_ranges() -> None:
    images, mask = _batch()
    cfg = dataclasses.replace(BASE, photometric_p=1.0, blur_p=0.0, noise_p=0.0, gain=0.0,
                              gamma=(1.0, 1.0), brightness=0.0, contrast=(1.25, 1.25))
    out = photometric(images, mask, cfg)
    expected = ((images.clamp(1e-4, 1.0) - 0.5) * 1.25 + 0.5).clamp(0.0, 1.0)
    content = mask.bool().expand_as(images)
    assert torch.allclose(out[content], expected[content], atol=1e-6)


def test_noise_and_blur_touch_only_the_images_drawn_for_them() -> None:
    images, mask = _batch(n=64)
    cfg = dataclasses.replace(BASE, photometric_p=1.0, blur_p=0.0, noise_p=0.5, gain=0.0,
                              gamma=(1.0, 1.0), brightness=0.0, contrast=(1.0, 1.0),
                              noise_max=0.04)
    out = photometric(images, mask, cfg)
    content = mask.bool()[:, 0]
    changed = [bool((out[i][:, content[i]] != images[i][:, content[i]]).any())
               for i in range(64)]
    # about half the images are noisy; the others pass through untouched
    assert 16 <= sum(changed) <= 48
    residual = torch.stack([(out[i] - images[i])[:, content[i]].std() for i in range(64)
                            if changed[i]])
    assert float(residual.max()) <= 0.05
    blurred = photometric(images, mask, dataclasses.replace(cfg, noise_p=0.0, blur_p=1.0))
    # a binomial blur lowers the pixel-to-pixel variation of uniform noise images
    assert float(blurred[..., :16].diff(dim=-1).abs().mean()) \
        < 0.7 * float(images[..., :16].diff(dim=-1).abs().mean())


def test_output_stays_in_range_under_every_effect_at_once() -> None:
    images, mask = _batch()
    cfg = dataclasses.replace(BASE, photometric_p=1.0, blur_p=1.0, noise_p=1.0,
                              noise_max=0.5, brightness=0.5)
    out = photometric(images, mask, cfg)
    assert out.shape == images.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def _scales_and_turns(cfg: AugmentConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and rotation (off the nearest quarter turn, degrees) of 4,000 drawn maps."""
    torch.manual_seed(5)
    m = geometry(4000, 256, cfg, torch.device("cpu"))
    linear = m[:, :2, :2]
    scale = torch.sqrt(torch.abs(torch.linalg.det(linear)))
    angle = torch.rad2deg(torch.atan2(linear[:, 1, 0], linear[:, 0, 0]).abs())
    off_quarter = torch.minimum(angle % 90.0, 90.0 - angle % 90.0)
    return scale, off_quarter


def test_light_augmentation_draws_within_narrower_ranges_than_full() -> None:
    light_scale, light_turn = _scales_and_turns(AUGMENT_PRESETS["light"])
    full_scale, full_turn = _scales_and_turns(AUGMENT_PRESETS["full"])
    assert light_scale.min() >= 0.85 - 1e-4 and light_scale.max() <= 1.2 + 1e-4
    assert full_scale.min() < 0.7 and full_scale.max() > 1.35
    assert light_turn.max() <= 5.0 + 1e-3 < full_turn.max()
    # less often touched at all: the share of maps that are the identity
    assert (light_scale == 1.0).float().mean() > (full_scale == 1.0).float().mean() + 0.1
