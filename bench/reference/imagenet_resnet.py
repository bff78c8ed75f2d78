"""The ImageNet ResNets of the paper's Table 1 in PyTorch, written out as torchvision defines them
(torchvision is not needed), and what they cost: parameters, and multiply-adds of one 224x224 image
counted by forward hooks on every convolution and the FC layer.

  python3 bench/reference/imagenet_resnet.py [--stride-at paper|torchvision]

prints JSON {depth: {"params": ..., "multiply_adds": ...}}. src/core/imagenet.ts computes the same
figures from its own block description; scripts/imagenet-reference.test.ts checks they agree.
--stride-at: where a bottleneck block's stride-2 goes, the paper's first 1x1 convolution or
torchvision's 3x3 ("v1.5"); basic blocks are the same either way.
"""
import argparse
import json

import torch
from torch import nn


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride, stride_at):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        out = width
        self.down = None
        if stride != 1 or cin != out:
            self.down = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (self.down(x) if self.down is not None else x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride, stride_at):
        super().__init__()
        s1, s2 = (stride, 1) if stride_at == "paper" else (1, stride)
        out = 4 * width
        self.conv1 = nn.Conv2d(cin, width, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, s2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != out:
            self.down = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (self.down(x) if self.down is not None else x))


LAYOUT = {18: (Basic, [2, 2, 2, 2]), 34: (Basic, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3]), 101: (Bottleneck, [3, 4, 23, 3]), 152: (Bottleneck, [3, 8, 36, 3])}


class ResNet(nn.Module):
    def __init__(self, depth, stride_at="paper"):
        super().__init__()
        block, counts = LAYOUT[depth]
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        layers = []
        cin = 64
        for s, (width, count) in enumerate(zip([64, 128, 256, 512], counts)):
            for b in range(count):
                stride = 2 if s > 0 and b == 0 else 1
                layers.append(block(cin, width, stride, stride_at))
                cin = width * block.expansion
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, 1000)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def multiply_adds(model):
    total = [0]

    def conv_hook(m, _inp, out):
        total[0] += out.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups

    def fc_hook(m, _inp, _out):
        total[0] += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(fc_hook)
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 224, 224))
    return total[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stride-at", choices=["paper", "torchvision"], default="paper")
    args = ap.parse_args()
    out = {}
    for depth in LAYOUT:
        model = ResNet(depth, args.stride_at)
        out[depth] = {"params": sum(p.numel() for p in model.parameters()), "multiply_adds": multiply_adds(model)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
