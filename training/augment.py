"""Batch augmentation on the training device (GPU or CPU), boxes transformed with the pixels.

Geometry (one affine warp per image, bilinear): quarter turns and flips, a small rotation,
a random scale and shift. Boxes are mapped by their four corners (the enclosing box of the
turned box), clipped to the input and dropped when too little of them is left. The
letterbox padding stays grey 114 wherever the warp uncovers it.

Photometry (inside the image content only): contrast, brightness, gamma, a slight colour
gain per channel, Gaussian blur and Gaussian noise. Hue is never shifted: colour carries
the material class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

PAD = 114.0 / 255.0


@dataclass(frozen=True)
class AugmentConfig:
    geometry_p: float = 0.7
    quarter_turn_p: float = 0.5
    flip_p: float = 0.5
    rotate_p: float = 0.5
    max_rotate_deg: float = 10.0
    scale: tuple[float, float] = (0.6, 1.5)
    shift_px: float = 64.0
    photometric_p: float = 0.8
    contrast: tuple[float, float] = (0.75, 1.25)
    brightness: float = 0.08
    gamma: tuple[float, float] = (0.7, 1.4)
    gain: float = 0.06
    blur_p: float = 0.2
    noise_p: float = 0.5
    noise_max: float = 0.04
    min_visible: float = 0.4
    min_box_px: float = 4.0
    #: with a crop smaller than the input: how often it is centred near a threat
    focus_p: float = 0.6


#: Batch augmentation for a last phase: a network that no longer fits even its training
#: bags (``training.fit_bags``) may gain from seeing views closer to those it is scored on,
#: as detectors are often finished without their strongest augmentation. Same kinds of
#: change as the default, in narrower ranges and less often. Tried after phase 13, it
#: raised every simulated figure and lost most of the real-image ones (training/README.md,
#: "Light batch augmentation"), so the shipped phases use the default.
LIGHT = AugmentConfig(geometry_p=0.5, rotate_p=0.3, max_rotate_deg=5.0, scale=(0.85, 1.2),
                      shift_px=32.0, photometric_p=0.5, contrast=(0.9, 1.1), brightness=0.04,
                      gamma=(0.85, 1.2), gain=0.03, blur_p=0.1, noise_p=0.3, noise_max=0.02)
#: ``train.py --augment`` choices.
AUGMENT_PRESETS: dict[str, AugmentConfig] = {"full": AugmentConfig(), "light": LIGHT}


def _rand(n: int, low: float, high: float, device: torch.device) -> Tensor:
    return torch.rand(n, device=device) * (high - low) + low


def geometry(n: int, size: int, cfg: AugmentConfig, device: torch.device) -> Tensor:
    """Forward affine maps (n, 3, 3) in input pixels (continuous corners)."""
    eye = torch.eye(3, device=device).expand(n, 3, 3).clone()
    active = torch.rand(n, device=device) < cfg.geometry_p
    k = torch.randint(0, 4, (n,), device=device) * (torch.rand(n, device=device)
                                                     < cfg.quarter_turn_p)
    angle = k.float() * (math.pi / 2)
    small = torch.rand(n, device=device) < cfg.rotate_p
    angle = angle + small * _rand(n, -1.0, 1.0, device) * math.radians(cfg.max_rotate_deg)
    log_lo, log_hi = math.log(cfg.scale[0]), math.log(cfg.scale[1])
    scale = torch.exp(_rand(n, log_lo, log_hi, device))
    flip_x = torch.where(torch.rand(n, device=device) < cfg.flip_p, -1.0, 1.0)
    flip_y = torch.where(torch.rand(n, device=device) < cfg.flip_p, -1.0, 1.0)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    linear = torch.stack([torch.stack([cos * flip_x, -sin * flip_y], -1),
                          torch.stack([sin * flip_x, cos * flip_y], -1)], -2)  # (n, 2, 2)
    centre = torch.full((n, 2), size / 2.0, device=device)
    shift = _rand(n * 2, -cfg.shift_px, cfg.shift_px, device).view(n, 2)
    translation = centre + shift - (linear @ centre[..., None])[..., 0]
    m = eye.clone()
    m[:, :2, :2] = linear
    m[:, :2, 2] = translation
    return torch.where(active[:, None, None], m, eye)


def _to_norm(size: int, device: torch.device) -> Tensor:
    """Pixel corners -> normalised coordinates of ``grid_sample`` (align_corners=False)."""
    return torch.tensor([[2.0 / size, 0.0, -1.0], [0.0, 2.0 / size, -1.0], [0.0, 0.0, 1.0]],
                        device=device)


def warp(images: Tensor, content: Tensor, affine: Tensor, out_size: int
         ) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Warp (n, C, S, S) float images in [0, 1] and their content masks (n, 1, S, S) into
    (n, C, out_size, out_size) through the forward maps ``affine`` (n, 3, 3)."""
    n, _, size, _ = images.shape
    device = images.device
    theta = (_to_norm(size, device) @ torch.linalg.inv(affine)
             @ torch.linalg.inv(_to_norm(out_size, device)))[:, :2, :]
    grid = F.affine_grid(theta, [n, 1, out_size, out_size], align_corners=False)
    stacked = torch.cat([images - PAD, content], 1)
    warped = F.grid_sample(stacked, grid, mode="bilinear", padding_mode="zeros",
                           align_corners=False)
    mask = warped[:, -1:].clamp(0.0, 1.0)
    return warped[:, :-1] + PAD, mask


def _apply(affine: Tensor, points: Tensor) -> Tensor:
    """Points (n, 2) through maps (n, 3, 3)."""
    return (affine[:, :2, :2] @ points[..., None])[..., 0] + affine[:, :2, 2]


def crop(affine: Tensor, content: Tensor, boxes: Tensor, valid: Tensor, out_size: int,
         cfg: AugmentConfig) -> Tensor:
    """Compose ``affine`` with a shift that puts an ``out_size`` window over the warped image:
    centred near a random threat box (``focus_p`` of the time, when there is one) or on a
    random point of the image content."""
    n, _, size, _ = content.shape
    device = content.device
    coarse = F.avg_pool2d(content, 8).flatten(1) + 1e-6  # (n, (S/8)^2)
    cell = torch.multinomial(coarse, 1)[:, 0]
    side = size // 8
    point = torch.stack([(cell % side).float(), (cell // side).float()], 1) * 8 + 4
    any_box = valid.any(1)
    pick = torch.multinomial(valid.float() + (~any_box[:, None]).float(), 1)[:, 0]
    chosen = boxes[torch.arange(n, device=device), pick]
    centre = (chosen[:, :2] + chosen[:, 2:]) / 2
    focus = any_box & (torch.rand(n, device=device) < cfg.focus_p)
    source = torch.where(focus[:, None], centre, point)
    target = _apply(affine, source)
    target = target + (torch.rand(n, 2, device=device) - 0.5) * (out_size / 2)
    shift = torch.eye(3, device=device).expand(n, 3, 3).clone()
    shift[:, :2, 2] = out_size / 2 - target
    return shift @ affine


def _area(b: Tensor) -> Tensor:
    return (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)


def transform_boxes(boxes: Tensor, valid: Tensor, affine: Tensor, size: int,
                    cfg: AugmentConfig) -> tuple[Tensor, Tensor]:
    """Boxes (n, M, 4) corners through ``affine`` (n, 3, 3); clipped; returns the new
    boxes and validity."""
    x0, y0, x1, y1 = boxes.unbind(-1)
    corners = torch.stack([torch.stack([x0, y0], -1), torch.stack([x1, y0], -1),
                           torch.stack([x0, y1], -1), torch.stack([x1, y1], -1)], -2)
    mapped = corners @ affine[:, None, :2, :2].transpose(-1, -2) + affine[:, None, None, :2, 2]
    lo = mapped.amin(-2)
    hi = mapped.amax(-2)
    full = torch.cat([lo, hi], -1)
    clipped = full.clamp(0.0, float(size))
    visible = _area(clipped) / _area(full).clamp(min=1e-6)
    width = clipped[..., 2] - clipped[..., 0]
    height = clipped[..., 3] - clipped[..., 1]
    keep = valid & (visible >= cfg.min_visible) & (torch.maximum(width, height) >= cfg.min_box_px) \
        & (torch.minimum(width, height) >= 1.0)
    return clipped, keep


def photometric(images: Tensor, mask: Tensor, cfg: AugmentConfig) -> Tensor:
    """Contrast, brightness, gamma and gain on ``photometric_p`` of the images, then blur
    and noise on some of those, inside the content ``mask``. Each effect is computed only
    on the images it applies to: on a CPU this step cost more than the warp."""
    n = images.shape[0]
    device = images.device
    out = images.clone()
    active = torch.nonzero(torch.rand(n, device=device) < cfg.photometric_p)[:, 0]
    if active.numel():
        out[active] = _tone(images[active], cfg)
        blur = active[torch.rand(active.numel(), device=device) < cfg.blur_p]
        if blur.numel():
            out[blur] = _blur(out[blur])
        noisy = active[torch.rand(active.numel(), device=device) < cfg.noise_p]
        if noisy.numel():
            sigma = _rand(noisy.numel(), 0.0, cfg.noise_max, device).view(-1, 1, 1, 1)
            out[noisy] += torch.randn_like(out[noisy]) * sigma
        out.clamp_(0.0, 1.0)
    return mask * out + (1 - mask) * PAD


def _tone(images: Tensor, cfg: AugmentConfig) -> Tensor:
    """Gamma, contrast about mid-grey, brightness and a slight gain per colour channel."""
    n = images.shape[0]
    device = images.device
    contrast = _rand(n, *cfg.contrast, device).view(n, 1, 1, 1)
    brightness = _rand(n, -cfg.brightness, cfg.brightness, device).view(n, 1, 1, 1)
    gamma = torch.exp(_rand(n, math.log(cfg.gamma[0]), math.log(cfg.gamma[1]), device)
                      ).view(n, 1, 1, 1)
    gain = 1.0 + _rand(n * 3, -cfg.gain, cfg.gain, device).view(n, 3, 1, 1)
    out = images.clamp(1e-4, 1.0).pow_(gamma)
    return out.sub_(0.5).mul_(contrast).add_(0.5 + brightness).mul_(gain)


def _blur(images: Tensor) -> Tensor:
    """A 3 x 3 binomial blur per channel, edges replicated."""
    kernel = torch.tensor([1.0, 2.0, 1.0], device=images.device)
    kernel = (kernel[:, None] * kernel[None, :]) / 16.0
    weight = kernel.expand(images.shape[1], 1, 3, 3).contiguous()
    return F.conv2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), weight,
                    groups=images.shape[1])


def augment(images: Tensor, content: Tensor, boxes: Tensor, valid: Tensor,
            cfg: AugmentConfig, out_size: int | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Images (n, 3, S, S) float in [0, 1], content masks (n, 1, S, S), boxes (n, M, 4),
    validity (n, M) -> augmented images (n, 3, out, out), boxes, validity. With
    ``out_size`` smaller than S, each image is also cropped (see :func:`crop`)."""
    size = images.shape[-1]
    out = out_size or size
    affine = geometry(images.shape[0], size, cfg, images.device)
    if out != size:
        affine = crop(affine, content, boxes, valid, out, cfg)
    warped, mask = warp(images, content, affine, out)
    new_boxes, keep = transform_boxes(boxes, valid, affine, out, cfg)
    return photometric(warped, mask, cfg), new_boxes, keep
