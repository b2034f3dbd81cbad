"""MobileNetV2 backbone and head with the exact parameter layout of MindSpore's r1.2 model zoo.

Cell attribute names (`features`, `conv`, `head`, `dense`) and nesting are what produce the checkpoint
entry names (`features.1.conv.0.features.1.gamma`, `head.1.weight`), so they must not change.
The head is built as SequentialCell([GlobalAvgPooling, Dense]) so its Dense is `head.1.*`, which is the
layout of the official checkpoint listed in the shared reference JSON.
"""

from __future__ import annotations

from typing import Any

import mindspore as ms
import numpy as np
from mindspore import nn, ops

FEATURE_CHANNELS = 1280

# t (expansion), c (channels), n (repeats), s (stride) -- the paper's and the model zoo's table.
INVERTED_RESIDUAL_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    new_value = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


class GlobalAvgPooling(nn.Cell):
    def __init__(self) -> None:
        super().__init__()
        self.mean = ops.ReduceMean(keep_dims=False)

    def construct(self, x: Any) -> Any:
        return self.mean(x, (2, 3))


class ConvBNReLU(nn.Cell):
    def __init__(
        self, in_planes: int, out_planes: int, kernel_size: int = 3, stride: int = 1, groups: int = 1
    ):
        super().__init__()
        padding = (kernel_size - 1) // 2
        conv = nn.Conv2d(
            in_planes,
            out_planes,
            kernel_size,
            stride,
            pad_mode="pad",
            padding=padding,
            group=groups,
        )
        self.features = nn.SequentialCell([conv, nn.BatchNorm2d(out_planes), nn.ReLU6()])

    def construct(self, x: Any) -> Any:
        return self.features(x)


class InvertedResidual(nn.Cell):
    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden_dim = round(inp * expand_ratio)
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Cell] = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU(inp, hidden_dim, kernel_size=1))
        layers += [
            ConvBNReLU(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
            nn.Conv2d(hidden_dim, oup, kernel_size=1, stride=1, has_bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.SequentialCell(layers)
        self.add = ops.Add()

    def construct(self, x: Any) -> Any:
        if self.use_res_connect:
            return self.add(x, self.conv(x))
        return self.conv(x)


class MobileNetV2Backbone(nn.Cell):
    """19 feature blocks, width 1.0: (N, 3, H, W) -> (N, 1280, H/32, W/32)."""

    def __init__(self) -> None:
        super().__init__()
        input_channel = make_divisible(32)
        self.out_channels = make_divisible(FEATURE_CHANNELS)
        blocks: list[nn.Cell] = [ConvBNReLU(3, input_channel, stride=2)]
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            output_channel = make_divisible(c)
            for i in range(n):
                blocks.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, t))
                input_channel = output_channel
        blocks.append(ConvBNReLU(input_channel, self.out_channels, kernel_size=1))
        self.features = nn.SequentialCell(blocks)
        self._initialize_weights()

    def construct(self, x: Any) -> Any:
        return self.features(x)

    def _initialize_weights(self) -> None:
        self.init_parameters_data()
        for _, cell in self.cells_and_names():
            if isinstance(cell, nn.Conv2d):
                n = cell.kernel_size[0] * cell.kernel_size[1] * cell.out_channels
                shape = cell.weight.data.shape
                cell.weight.set_data(
                    ms.Tensor(np.random.normal(0, np.sqrt(2.0 / n), shape).astype(np.float32))
                )
                if cell.bias is not None:
                    cell.bias.set_data(ms.Tensor(np.zeros(cell.bias.data.shape, np.float32)))
            elif isinstance(cell, nn.BatchNorm2d):
                cell.gamma.set_data(ms.Tensor(np.ones(cell.gamma.data.shape, np.float32)))
                cell.beta.set_data(ms.Tensor(np.zeros(cell.beta.data.shape, np.float32)))


class MobileNetV2Head(nn.Cell):
    """Global average pool + Dense(1280 -> num_classes); entries `head.1.weight`, `head.1.bias`."""

    def __init__(self, num_classes: int, input_channel: int = FEATURE_CHANNELS):
        super().__init__()
        self.head = nn.SequentialCell(
            [GlobalAvgPooling(), nn.Dense(input_channel, num_classes, has_bias=True)]
        )
        dense = self.head[1]
        dense.weight.set_data(
            ms.Tensor(np.random.normal(0, 0.01, (num_classes, input_channel)).astype(np.float32))
        )
        dense.bias.set_data(ms.Tensor(np.zeros((num_classes,), np.float32)))

    def construct(self, x: Any) -> Any:
        return self.head(x)


class MobileNetV2(nn.Cell):
    """Backbone + head without a name prefix (auto_prefix=False), as the model zoo's MobileNetV2Combine."""

    def __init__(self, backbone: MobileNetV2Backbone, head: MobileNetV2Head):
        super().__init__(auto_prefix=False)
        self.backbone = backbone
        self.head = head

    def construct(self, x: Any) -> Any:
        return self.head(self.backbone(x))


class PooledBackbone(nn.Cell):
    """Backbone followed by global average pooling: (N, 3, H, W) -> (N, 1280) features."""

    def __init__(self, backbone: MobileNetV2Backbone):
        super().__init__(auto_prefix=False)
        self.backbone = backbone
        self.pool = GlobalAvgPooling()

    def construct(self, x: Any) -> Any:
        return self.pool(self.backbone(x))


class PooledHead(nn.Cell):
    """The head's Dense applied to pooled features; shares parameters with the head."""

    def __init__(self, head: MobileNetV2Head):
        super().__init__(auto_prefix=False)
        self.head = head

    def construct(self, x: Any) -> Any:
        return self.head.head[1](x)


def build_network(num_classes: int) -> tuple[MobileNetV2Backbone, MobileNetV2Head, MobileNetV2]:
    backbone = MobileNetV2Backbone()
    head = MobileNetV2Head(num_classes, backbone.out_channels)
    return backbone, head, MobileNetV2(backbone, head)


def fold_conv_bn(
    weight: np.ndarray, bias: np.ndarray | None, bn: dict[str, np.ndarray], eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Conv weights (O, I/g, kh, kw) and bias (O,) of conv followed by inference-mode BatchNorm."""
    scale = bn["gamma"] / np.sqrt(bn["moving_variance"] + eps)
    folded_bias = bn["beta"] - bn["moving_mean"] * scale
    if bias is not None:
        folded_bias = folded_bias + bias * scale
    folded = weight * scale.reshape(-1, 1, 1, 1)
    return folded.astype(np.float32), folded_bias.astype(np.float32)


def _conv_bn_pairs(backbone: MobileNetV2Backbone) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """Every (Conv2d, BatchNorm2d) pair of the backbone, in forward order."""
    pairs: list[tuple[nn.Conv2d, nn.BatchNorm2d]] = []
    convs = [c for _, c in backbone.cells_and_names() if isinstance(c, (nn.Conv2d, nn.BatchNorm2d))]
    for conv, bn in zip(convs[0::2], convs[1::2], strict=True):
        assert isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
        pairs.append((conv, bn))
    return pairs


class _FoldedConv(nn.Cell):
    """Conv2d with bias (BatchNorm folded in), optionally followed by ReLU6."""

    def __init__(self, conv: nn.Conv2d, relu: bool):
        super().__init__()
        self.conv = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            pad_mode=conv.pad_mode,
            padding=conv.padding,
            group=conv.group,
            has_bias=True,
        )
        self.relu = nn.ReLU6() if relu else None

    def construct(self, x: Any) -> Any:
        x = self.conv(x)
        if self.relu is not None:
            x = self.relu(x)
        return x


class _FoldedInvertedResidual(nn.Cell):
    def __init__(self, block: InvertedResidual):
        super().__init__()
        layers: list[nn.Cell] = []
        for cell in block.conv:
            if isinstance(cell, ConvBNReLU):
                layers.append(_FoldedConv(cell.features[0], relu=True))
            elif isinstance(cell, nn.Conv2d):
                layers.append(_FoldedConv(cell, relu=False))
        self.conv = nn.SequentialCell(layers)
        self.use_res_connect = block.use_res_connect
        self.add = ops.Add()

    def construct(self, x: Any) -> Any:
        if self.use_res_connect:
            return self.add(x, self.conv(x))
        return self.conv(x)


class FoldedPooledBackbone(nn.Cell):
    """Inference-only PooledBackbone with every BatchNorm folded into its convolution (fewer kernels).

    Computes what PooledBackbone computes in eval mode (moving statistics). Built from a backbone's
    structure; `load_from(backbone)` (re)folds the backbone's current weights. Never checkpointed: the
    unfolded backbone keeps the official layout for training and checkpoints.
    """

    def __init__(self, backbone: MobileNetV2Backbone):
        super().__init__()
        blocks: list[nn.Cell] = []
        for block in backbone.features:
            if isinstance(block, ConvBNReLU):
                blocks.append(_FoldedConv(block.features[0], relu=True))
            else:
                blocks.append(_FoldedInvertedResidual(block))
        self.features = nn.SequentialCell(blocks)
        self.pool = GlobalAvgPooling()
        self.load_from(backbone)

    def load_from(self, backbone: MobileNetV2Backbone) -> None:
        folded = [c for _, c in self.cells_and_names() if isinstance(c, _FoldedConv)]
        pairs = _conv_bn_pairs(backbone)
        for target, (conv, bn) in zip(folded, pairs, strict=True):
            stats = {
                name: getattr(bn, name).asnumpy()
                for name in ("gamma", "beta", "moving_mean", "moving_variance")
            }
            bias = conv.bias.asnumpy() if conv.bias is not None else None
            weight, new_bias = fold_conv_bn(conv.weight.asnumpy(), bias, stats, float(bn.eps))
            target.conv.weight.set_data(ms.Tensor(weight))
            target.conv.bias.set_data(ms.Tensor(new_bias))

    def construct(self, x: Any) -> Any:
        return self.pool(self.features(x))
