"""A compact anchor-free detector: CSP backbone (strides 8, 16, 32), PAN neck, decoupled head.

The layout follows YOLOv8's (C2f blocks, SPPF, a path-aggregation neck, separate box and
class branches per level) at a smaller width, without distribution focal loss: each
anchor point regresses its distances to the box's four sides directly (``softplus`` times
the stride). :class:`ExportWrapper` puts the decoding in the graph, so the exported ONNX
output is the YOLOv8 layout ``[1, 4 + nc, N]`` that ``screener.detect`` reads: ``cx, cy,
w, h`` in input pixels, then the class scores after the sigmoid.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

STRIDES = (8, 16, 32)


class Conv(nn.Module):
    """Conv, batch norm, SiLU."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, s: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c: int, shortcut: bool = True) -> None:
        super().__init__()
        self.cv1 = Conv(c, c, 3)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x: Tensor) -> Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """CSP block with two convolutions and ``n`` bottlenecks whose outputs are all kept."""

    def __init__(self, c_in: int, c_out: int, n: int = 1, shortcut: bool = True) -> None:
        super().__init__()
        self.c = c_out // 2
        self.cv1 = Conv(c_in, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c_out, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x: Tensor) -> Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        for block in self.m:
            y.append(block(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        hidden = c_in // 2
        self.cv1 = Conv(c_in, hidden, 1)
        self.cv2 = Conv(hidden * 4, c_out, 1)
        self.pool = nn.MaxPool2d(5, 1, 2)

    def forward(self, x: Tensor) -> Tensor:
        x = self.cv1(x)
        y1 = self.pool(x)
        y2 = self.pool(y1)
        return self.cv2(torch.cat([x, y1, y2, self.pool(y2)], 1))


class Head(nn.Module):
    """Decoupled head: per level, a box branch (4 distances) and a class branch (logits)."""

    def __init__(self, channels: tuple[int, ...], num_classes: int, width: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.box = nn.ModuleList(
            nn.Sequential(Conv(c, width, 3), Conv(width, width, 3), nn.Conv2d(width, 4, 1))
            for c in channels)
        self.cls = nn.ModuleList(
            nn.Sequential(Conv(c, width, 3), Conv(width, width, 3),
                          nn.Conv2d(width, num_classes, 1))
            for c in channels)
        prior = 0.01
        for branch in self.cls:
            last = branch[-1]
            assert isinstance(last, nn.Conv2d)
            nn.init.constant_(last.bias, -math.log((1 - prior) / prior))
        for branch in self.box:
            last = branch[-1]
            assert isinstance(last, nn.Conv2d)
            nn.init.constant_(last.bias, 1.0)

    def forward(self, features: list[Tensor]) -> tuple[Tensor, Tensor]:
        """Raw box distances (B, N, 4) and class logits (B, N, nc), levels concatenated
        stride 8 first, each level row-major."""
        boxes, logits = [], []
        for x, box, cls in zip(features, self.box, self.cls, strict=True):
            boxes.append(box(x).flatten(2))
            logits.append(cls(x).flatten(2))
        return torch.cat(boxes, 2).transpose(1, 2), torch.cat(logits, 2).transpose(1, 2)


class Detector(nn.Module):
    """Backbone widths ``w`` (stem to stride 32), ``depth`` bottlenecks per C2f."""

    def __init__(self, num_classes: int, widths: tuple[int, int, int, int, int] = (16, 32, 64,
                                                                                   128, 160),
                 depth: tuple[int, int, int, int] = (1, 2, 2, 1), head_width: int = 48) -> None:
        super().__init__()
        w0, w1, w2, w3, w4 = widths
        self.num_classes = num_classes
        self.stem = Conv(3, w0, 3, 2)
        self.stage1 = nn.Sequential(Conv(w0, w1, 3, 2), C2f(w1, w1, depth[0]))
        self.stage2 = nn.Sequential(Conv(w1, w2, 3, 2), C2f(w2, w2, depth[1]))
        self.stage3 = nn.Sequential(Conv(w2, w3, 3, 2), C2f(w3, w3, depth[2]))
        self.stage4 = nn.Sequential(Conv(w3, w4, 3, 2), C2f(w4, w4, depth[3]), SPPF(w4, w4))
        self.top_down4 = C2f(w4 + w3, w3, 1, shortcut=False)
        self.top_down3 = C2f(w3 + w2, w2, 1, shortcut=False)
        self.down3 = Conv(w2, w2, 3, 2)
        self.bottom_up4 = C2f(w2 + w3, w3, 1, shortcut=False)
        self.down4 = Conv(w3, w3, 3, 2)
        self.bottom_up5 = C2f(w3 + w4, w4, 1, shortcut=False)
        self.head = Head((w2, w3, w4), num_classes, head_width)

    def features(self, x: Tensor) -> list[Tensor]:
        x = self.stage1(self.stem(x))
        p3 = self.stage2(x)
        p4 = self.stage3(p3)
        p5 = self.stage4(p4)
        t4 = self.top_down4(torch.cat([F.interpolate(p5, scale_factor=2.0, mode="nearest"), p4],
                                      1))
        n3 = self.top_down3(torch.cat([F.interpolate(t4, scale_factor=2.0, mode="nearest"), p3],
                                      1))
        n4 = self.bottom_up4(torch.cat([self.down3(n3), t4], 1))
        n5 = self.bottom_up5(torch.cat([self.down4(n4), p5], 1))
        return [n3, n4, n5]

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.head(self.features(x))


def anchor_points(height: int, width: int, device: torch.device | None = None
                  ) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Anchor centres (N, 2) as x, y in input pixels and their strides (N,), in the
    order the head concatenates them."""
    points, strides = [], []
    for stride in STRIDES:
        h, w = height // stride, width // stride
        ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) * stride
        xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) * stride
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        points.append(torch.stack([grid_x.flatten(), grid_y.flatten()], 1))
        strides.append(torch.full((h * w,), float(stride), device=device))
    return torch.cat(points), torch.cat(strides)


def decode(raw_boxes: Tensor, points: Tensor, strides: Tensor) -> Tensor:
    """Raw distances (B, N, 4) -> corner boxes x0, y0, x1, y1 (B, N, 4) in input pixels."""
    dist = F.softplus(raw_boxes) * strides[None, :, None]
    return torch.cat([points[None] - dist[..., :2], points[None] + dist[..., 2:]], -1)


class ExportWrapper(nn.Module):
    """The detector with decoding in the graph: image (1, C, H, W) scaled to [0, 1] ->
    ``[1, 4 + nc, N]`` (cx, cy, w, h in input pixels, class probabilities).

    ``grey=True`` takes a single-channel image: the stem's weights are summed over the
    three colour channels, which gives exactly the output for a grey image repeated in R,
    G and B (the way greyscale renderings were shown to the model in training).
    """

    def __init__(self, model: Detector, input_size: tuple[int, int], grey: bool = False
                 ) -> None:  # fmt: skip
        super().__init__()
        self.model = model
        if grey:
            stem = model.stem.conv
            single = nn.Conv2d(1, stem.out_channels, stem.kernel_size, stem.stride,
                               stem.padding, bias=False)
            with torch.no_grad():
                single.weight.copy_(stem.weight.sum(1, keepdim=True))
            model.stem.conv = single
        points, strides = anchor_points(*input_size)
        self.register_buffer("points", points)
        self.register_buffer("strides", strides)

    def forward(self, x: Tensor) -> Tensor:
        raw_boxes, logits = self.model(x)
        corners = decode(raw_boxes, self.points, self.strides)
        centre = (corners[..., :2] + corners[..., 2:]) * 0.5
        size = corners[..., 2:] - corners[..., :2]
        out = torch.cat([centre, size, torch.sigmoid(logits)], -1)
        return out.transpose(1, 2)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
