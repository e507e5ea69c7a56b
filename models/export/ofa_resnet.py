"""OFA's image backbone: a torchvision-style ResNet cut after stage 3 (stride 16), inference only.

Parameter names (`conv1`, `bn1`, `layerK.N.{conv,bn}{1,2,3}`, `layerK.0.downsample.{0,1}`) are those
of ModelScope `resnet.py`, so `encoder.embed_images.*` in the checkpoint loads strictly.
`width` is 64 in OFA; the tiny preset shrinks it.
"""
from __future__ import annotations

from typing import List

import torch
from torch import nn

_EXPANSION = 4  # bottleneck output channels = 4 x planes


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=k, stride=stride, padding=k // 2, bias=False)


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (carries the stride) -> 1x1 expand, plus the shortcut."""

    def __init__(self, cin: int, planes: int, stride: int, downsample: nn.Module | None):
        super().__init__()
        cout = planes * _EXPANSION
        self.conv1, self.bn1 = _conv(cin, planes, 1), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = _conv(planes, planes, 3, stride), nn.BatchNorm2d(planes)
        self.conv3, self.bn3 = _conv(planes, cout, 1), nn.BatchNorm2d(cout)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        shortcut = x if self.downsample is None else self.downsample(x)
        return torch.relu(shortcut + y)


def _stage(cin: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    cout = planes * _EXPANSION
    down = None
    if stride != 1 or cin != cout:
        down = nn.Sequential(_conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))
    mods = [Bottleneck(cin, planes, stride, down)]
    mods += [Bottleneck(cout, planes, 1, None) for _ in range(blocks - 1)]
    return nn.Sequential(*mods)


class ResNetStem3(nn.Module):
    """7x7/2 conv, BN, ReLU, 3x3/2 max-pool, then bottleneck stages 1-3 (strides 1, 2, 2)."""

    def __init__(self, layers: List[int], width: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = _stage(width, width, layers[0], 1)
        self.layer2 = _stage(width * _EXPANSION, width * 2, layers[1], 2)
        self.layer3 = _stage(width * 2 * _EXPANSION, width * 4, layers[2], 2)
        self.out_channels = width * 4 * _EXPANSION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        return self.layer3(self.layer2(self.layer1(x)))
