"""An ONNX graph with the layer shapes of ultralytics YOLO11n, built in memory for timing.

Used by ``bench/detect.py`` as the yardstick our detector must not be slower than. No
PyTorch, no downloads: every node is written with ``onnx.helper``; the weights are random
(fixed seed), so the graph is good for timing only, never for detecting anything.

It mirrors ``yolo11.yaml`` at scale n (depth 0.50, width 0.25, max_channels 1024) as an
ultralytics ONNX export of the *fused* model runs it (BatchNorm folded into each
convolution's bias, SiLU as Sigmoid x Mul):

* backbone: Conv(16, 3, s2), Conv(32, 3, s2), C3k2(64, c3k=False, e=0.25), Conv(64, 3, s2),
  C3k2(128, False, 0.25), Conv(128, 3, s2), C3k2(128, c3k=True), Conv(256, 3, s2),
  C3k2(256, True), SPPF(256, 5), C2PSA(256) with one PSABlock (Attention: 1x1 qkv,
  num_heads = c // 64, key_dim = head_dim // 2, softmax(q^T k * key_dim^-0.5), v @ attn^T
  plus a 3x3 depthwise positional conv of v, 1x1 proj; FFN 1x1 c -> 2c -> c; residuals);
* head: upsample + concat P4, C3k2(128); upsample + concat P3, C3k2(64) -> P3/8;
  Conv(64, 3, s2) + concat, C3k2(128) -> P4/16; Conv(128, 3, s2) + concat,
  C3k2(256, True) -> P5/32;
* Detect (YOLO11): per level a box branch (Conv 3x3 to c2 = 64, Conv 3x3, 1x1 to
  4 x reg_max 16) and a class branch with depthwise-separable convs (DWConv 3x3 + Conv 1x1,
  twice, to c3 = max(64, min(nc, 100)), then 1x1 to nc); DFL (softmax over 16 bins, fixed
  1x1 conv with weights 0..15), distances to centre boxes times the stride, sigmoid class
  scores: the output ``output0`` is ``[1, 4 + nc, N]`` with N = sum (size / s)^2 over
  strides 8, 16, 32 (8400 at 640 x 640).

For nc = 80 the graph has 2,616,248 parameters, as ultralytics' "YOLO11n summary (fused):
2,616,248 parameters, 6.5 GFLOPs" (:func:`build_yolo11n` counts them and the
multiply-adds, so the bench prints both next to those figures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: ultralytics' published figures for the fused YOLO11n (80 classes, 640 x 640).
YOLO11N_PARAMETERS = 2_616_248
YOLO11N_GFLOPS_640 = 6.5

DEPTH, WIDTH, MAX_CHANNELS = 0.50, 0.25, 1024  # yolo11.yaml, scale "n"
REG_MAX = 16
STRIDES = (8, 16, 32)
OPSET = 17  # as our own export (training/export.py)
INPUT, OUTPUT = "images", "output0"  # the names ultralytics' exporter gives


def scaled_width(channels: int) -> int:
    """A yaml channel count at scale n (ultralytics' ``make_divisible(..., 8)``)."""
    return math.ceil(min(channels, MAX_CHANNELS) * WIDTH / 8) * 8


def scaled_depth(repeats: int) -> int:
    return max(round(repeats * DEPTH), 1)


@dataclass(frozen=True)
class Feature:
    """A tensor in the graph: its name and its (channels, height, width), batch 1."""

    name: str
    channels: int
    height: int
    width: int


@dataclass
class GraphBuilder:
    """Collects nodes and initializers; counts parameters and multiply-adds as it goes."""

    seed: int
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    parameters: int = 0
    multiply_adds: int = 0
    _count: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def constant(self, array: np.ndarray[Any, Any], prefix: str, *,
                 parameter: bool = False) -> str:
        name = self.fresh(prefix)
        self.initializers.append(numpy_helper.from_array(array, name))
        if parameter:
            self.parameters += int(array.size)
        return name

    def shape(self, dims: tuple[int, ...]) -> str:
        return self.constant(np.asarray(dims, dtype=np.int64), "shape")

    def op(self, op_type: str, inputs: list[str], prefix: str | None = None,
           outputs: int = 1, **attributes: Any) -> list[str]:
        names = [self.fresh(prefix or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, **attributes))
        return names

    def one(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        return self.op(op_type, inputs, **attributes)[0]


def conv(g: GraphBuilder, x: Feature, c_out: int, k: int = 1, s: int = 1, *,
         groups: int = 1, act: bool = True, bias: bool = True) -> Feature:
    """ultralytics ``Conv`` after fusion: Conv2d with bias (+ SiLU when ``act``)."""
    fan_in = x.channels // groups * k * k
    weight = g.rng.normal(0.0, math.sqrt(2.0 / fan_in), (c_out, fan_in // (k * k), k, k))
    inputs = [x.name, g.constant(weight.astype(np.float32), "w", parameter=True)]
    if bias:
        inputs.append(g.constant(g.rng.normal(0.0, 0.01, c_out).astype(np.float32), "b",
                                 parameter=True))
    height, width = (x.height + 2 * (k // 2) - k) // s + 1, (x.width + 2 * (k // 2) - k) // s + 1
    g.multiply_adds += c_out * height * width * fan_in
    out = g.one("Conv", inputs, kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4,
                group=groups)
    if act:
        out = g.one("Mul", [out, g.one("Sigmoid", [out])])
    return Feature(out, c_out, height, width)


def dwconv(g: GraphBuilder, x: Feature, k: int = 3) -> Feature:
    """ultralytics ``DWConv(c, c, k)``: a depthwise Conv + SiLU."""
    return conv(g, x, x.channels, k, groups=x.channels)


def split(g: GraphBuilder, x: Feature, sizes: tuple[int, ...]) -> list[Feature]:
    names = g.op("Split", [x.name, g.shape(sizes)], outputs=len(sizes), axis=1)
    return [Feature(n, c, x.height, x.width) for n, c in zip(names, sizes, strict=True)]


def concat(g: GraphBuilder, parts: list[Feature]) -> Feature:
    name = g.one("Concat", [p.name for p in parts], axis=1)
    return Feature(name, sum(p.channels for p in parts), parts[0].height, parts[0].width)


def add(g: GraphBuilder, a: Feature, b: Feature) -> Feature:
    return Feature(g.one("Add", [a.name, b.name]), a.channels, a.height, a.width)


def upsample(g: GraphBuilder, x: Feature) -> Feature:
    """``nn.Upsample(scale_factor=2, mode="nearest")`` as torch exports it."""
    scales = g.constant(np.asarray([1, 1, 2, 2], dtype=np.float32), "scales")
    name = g.one("Resize", [x.name, "", scales], mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return Feature(name, x.channels, x.height * 2, x.width * 2)


def bottleneck(g: GraphBuilder, x: Feature, e: float = 0.5) -> Feature:
    """``Bottleneck(c, c, shortcut=True, k=(3, 3), e)``: 3x3 to c*e, 3x3 back, residual."""
    hidden = conv(g, x, int(x.channels * e), 3)
    return add(g, x, conv(g, hidden, x.channels, 3))


def c3k(g: GraphBuilder, x: Feature, c_out: int, n: int = 2) -> Feature:
    """``C3k(c, c, n=2)``: CSP with two 1x1 branches, n Bottlenecks (e=1.0) on one."""
    hidden = int(c_out * 0.5)
    y = conv(g, x, hidden)
    for _ in range(n):
        y = bottleneck(g, y, e=1.0)
    return conv(g, concat(g, [y, conv(g, x, hidden)]), c_out)


def c3k2(g: GraphBuilder, x: Feature, c_out: int, n: int, c3k_blocks: bool,
         e: float = 0.5) -> Feature:
    """``C3k2(c1, c2, n, c3k, e)``: C2f whose inner blocks are C3k or Bottleneck."""
    c = int(c_out * e)
    parts = split(g, conv(g, x, 2 * c), (c, c))
    for _ in range(n):
        parts.append(c3k(g, parts[-1], c) if c3k_blocks else bottleneck(g, parts[-1]))
    return conv(g, concat(g, parts), c_out)


def sppf(g: GraphBuilder, x: Feature, c_out: int, k: int = 5) -> Feature:
    parts = [conv(g, x, x.channels // 2)]
    for _ in range(3):
        name = g.one("MaxPool", [parts[-1].name], kernel_shape=[k, k], strides=[1, 1],
                     pads=[k // 2] * 4)
        parts.append(Feature(name, parts[-1].channels, x.height, x.width))
    return conv(g, concat(g, parts), c_out)


def attention(g: GraphBuilder, x: Feature, attn_ratio: float = 0.5) -> Feature:
    """ultralytics ``Attention(c, num_heads=c // 64, attn_ratio=0.5)``."""
    heads = max(x.channels // 64, 1)
    head_dim = x.channels // heads
    key_dim = int(head_dim * attn_ratio)
    pixels = x.height * x.width
    qkv = conv(g, x, x.channels + 2 * key_dim * heads, act=False)
    grouped = g.one("Reshape", [qkv.name, g.shape((1, heads, 2 * key_dim + head_dim, pixels))])
    q, k, v = g.op("Split", [grouped, g.shape((key_dim, key_dim, head_dim))], outputs=3,
                   axis=2)
    scores = g.one("MatMul", [g.one("Transpose", [q], perm=[0, 1, 3, 2]), k])
    scale = g.constant(np.asarray(key_dim ** -0.5, dtype=np.float32), "scale")
    weights = g.one("Softmax", [g.one("Mul", [scores, scale])], axis=-1)
    mixed = g.one("MatMul", [v, g.one("Transpose", [weights], perm=[0, 1, 3, 2])])
    g.multiply_adds += heads * pixels * pixels * (key_dim + head_dim)
    image_shape = g.shape((1, x.channels, x.height, x.width))
    values = Feature(g.one("Reshape", [v, image_shape]), x.channels, x.height, x.width)
    positional = conv(g, values, x.channels, 3, groups=x.channels, act=False)
    attended = Feature(g.one("Reshape", [mixed, image_shape]), x.channels, x.height, x.width)
    return conv(g, add(g, attended, positional), x.channels, act=False)


def psa_block(g: GraphBuilder, x: Feature) -> Feature:
    """``PSABlock(c, attn_ratio=0.5, num_heads=c // 64)``: attention and FFN, residuals."""
    x = add(g, x, attention(g, x))
    ffn = conv(g, conv(g, x, 2 * x.channels), x.channels, act=False)
    return add(g, x, ffn)


def c2psa(g: GraphBuilder, x: Feature, n: int, e: float = 0.5) -> Feature:
    c = int(x.channels * e)
    a, b = split(g, conv(g, x, 2 * c), (c, c))
    for _ in range(n):
        b = psa_block(g, b)
    return conv(g, concat(g, [a, b]), x.channels)


def detect_level(g: GraphBuilder, x: Feature, first_channels: int, nc: int) -> str:
    """One level of YOLO11's ``Detect``: ``[1, 4 * reg_max + nc, H * W]``."""
    c2 = max(16, first_channels // 4, REG_MAX * 4)
    c3 = max(first_channels, min(nc, 100))
    box = conv(g, conv(g, x, c2, 3), c2, 3)
    box = conv(g, box, 4 * REG_MAX, act=False)
    cls = conv(g, dwconv(g, x), c3)
    cls = conv(g, dwconv(g, cls), c3)
    cls = conv(g, cls, nc, act=False)
    both = concat(g, [box, cls])
    return g.one("Reshape", [both.name, g.shape((1, both.channels, x.height * x.width))])


def anchors(input_size: tuple[int, int]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """ultralytics ``make_anchors`` (offset 0.5): points ``[1, 2, N]``, strides ``[1, N]``."""
    points, strides = [], []
    for stride in STRIDES:
        rows, cols = input_size[0] // stride, input_size[1] // stride
        yy, xx = np.meshgrid(np.arange(rows) + 0.5, np.arange(cols) + 0.5, indexing="ij")
        points.append(np.stack([xx.ravel(), yy.ravel()]))
        strides.append(np.full(rows * cols, stride))
    return (np.concatenate(points, 1)[None].astype(np.float32),
            np.concatenate(strides)[None].astype(np.float32))


def decode(g: GraphBuilder, raw: str, nc: int, input_size: tuple[int, int]) -> str:
    """DFL, distances to centre boxes times the stride, sigmoid scores: ``[1, 4 + nc, N]``."""
    points, strides = anchors(input_size)
    n = points.shape[2]
    box, cls = g.op("Split", [raw, g.shape((4 * REG_MAX, nc))], outputs=2, axis=1)
    bins = g.one("Reshape", [box, g.shape((1, 4, REG_MAX, n))])
    bins = g.one("Softmax", [g.one("Transpose", [bins], perm=[0, 2, 1, 3])], axis=1)
    dfl_weight = np.arange(REG_MAX, dtype=np.float32).reshape(1, REG_MAX, 1, 1)
    distances = g.one("Conv", [bins, g.constant(dfl_weight, "dfl", parameter=True)],
                      kernel_shape=[1, 1])
    distances = g.one("Reshape", [distances, g.shape((1, 4, n))])
    lt, rb = g.op("Split", [distances, g.shape((2, 2))], outputs=2, axis=1)
    point_name = g.constant(points, "anchors")
    top_left = g.one("Sub", [point_name, lt])
    bottom_right = g.one("Add", [point_name, rb])
    half = g.constant(np.asarray(2.0, dtype=np.float32), "two")
    centre = g.one("Div", [g.one("Add", [top_left, bottom_right]), half])
    size = g.one("Sub", [bottom_right, top_left])
    boxes = g.one("Mul", [g.one("Concat", [centre, size], axis=1),
                          g.constant(strides, "strides")])
    scores = g.one("Sigmoid", [cls])
    g.nodes.append(helper.make_node("Concat", [boxes, scores], [OUTPUT], axis=1))
    return OUTPUT


@dataclass(frozen=True)
class YoloGraph:
    model: onnx.ModelProto
    input_size: tuple[int, int]
    num_classes: int
    candidates: int
    parameters: int
    multiply_adds: int

    @property
    def gflops(self) -> float:
        """2 x multiply-adds of the convolutions and attention products, in 10^9."""
        return 2 * self.multiply_adds / 1e9

    def serialized(self) -> bytes:
        return self.model.SerializeToString()


def backbone(g: GraphBuilder, image: Feature) -> tuple[Feature, Feature, Feature]:
    """P3/8 (layer 4), P4/16 (layer 6) and P5/32 (layer 10) of the backbone."""
    x = conv(g, image, scaled_width(64), 3, 2)
    x = conv(g, x, scaled_width(128), 3, 2)
    x = c3k2(g, x, scaled_width(256), scaled_depth(2), False, 0.25)
    x = conv(g, x, scaled_width(256), 3, 2)
    p3 = c3k2(g, x, scaled_width(512), scaled_depth(2), False, 0.25)
    x = conv(g, p3, scaled_width(512), 3, 2)
    p4 = c3k2(g, x, scaled_width(512), scaled_depth(2), True)
    x = conv(g, p4, scaled_width(1024), 3, 2)
    x = c3k2(g, x, scaled_width(1024), scaled_depth(2), True)
    x = sppf(g, x, scaled_width(1024))
    return p3, p4, c2psa(g, x, scaled_depth(2))


def neck(g: GraphBuilder, p3: Feature, p4: Feature,
         p5: Feature) -> tuple[Feature, Feature, Feature]:
    """The PAN head up to Detect's inputs (layers 16, 19, 22)."""
    n = scaled_depth(2)
    up4 = c3k2(g, concat(g, [upsample(g, p5), p4]), scaled_width(512), n, False)
    out3 = c3k2(g, concat(g, [upsample(g, up4), p3]), scaled_width(256), n, False)
    down4 = conv(g, out3, scaled_width(256), 3, 2)
    out4 = c3k2(g, concat(g, [down4, up4]), scaled_width(512), n, False)
    down5 = conv(g, out4, scaled_width(512), 3, 2)
    out5 = c3k2(g, concat(g, [down5, p5]), scaled_width(1024), n, True)
    return out3, out4, out5


def build_yolo11n(input_size: tuple[int, int] = (640, 640), num_classes: int = 80,
                  seed: int = 0) -> YoloGraph:
    """The YOLO11n-shaped graph for a fixed ``(height, width)`` input (multiples of 32)."""
    if any(side <= 0 or side % 32 for side in input_size):
        raise ValueError(f"input size must be positive multiples of 32, not {input_size}")
    g = GraphBuilder(seed)
    image = Feature(INPUT, 3, *input_size)
    levels = neck(g, *backbone(g, image))
    raw = g.one("Concat", [detect_level(g, level, levels[0].channels, num_classes)
                           for level in levels], axis=2)
    output = decode(g, raw, num_classes, input_size)
    candidates = sum((input_size[0] // s) * (input_size[1] // s) for s in STRIDES)
    graph = helper.make_graph(
        g.nodes, "yolo11n_shaped",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, 3, *input_size])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT,
                                       [1, 4 + num_classes, candidates])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="screener-bench")
    model.ir_version = 8
    return YoloGraph(model, input_size, num_classes, candidates, g.parameters,
                     g.multiply_adds)
