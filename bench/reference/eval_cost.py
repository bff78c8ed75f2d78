#!/usr/bin/env python3
"""What one point of the loss landscape costs in PyTorch on this machine's CPU, for comparison with the lab's engine
(bench/landscape.ts): plain-56 and ResNet-56 at width x0.25 (lab_train.py's CifarNet), BN with its running statistics,
512 random images, forward only. Prints the median and fastest of 9 evaluations and the 21x21 pair projected.

  python3 bench/reference/eval_cost.py [--threads 2] [--images 512] [--width 0.25] [--channels-last]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab_train import CifarNet  # noqa: E402

args = argparse.ArgumentParser()
args.add_argument('--threads', type=int, default=2)
args.add_argument('--images', type=int, default=512)
args.add_argument('--width', type=float, default=0.25)
args.add_argument('--channels-last', action='store_true')
a = args.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
fmt = torch.channels_last if a.channels_last else torch.contiguous_format
x = torch.randn(a.images, 3, 32, 32).contiguous(memory_format=fmt)
print(f'PyTorch {torch.__version__}, {a.threads} threads, {"NHWC" if a.channels_last else "NCHW"}, width x{a.width}, {a.images} images')
medians = []
for residual in (False, True):
    net = CifarNet(9, residual, width=a.width).eval().to(memory_format=fmt)
    times = []
    with torch.no_grad():
        for i in range(11):
            t0 = time.perf_counter()
            net(x)
            if i >= 2:  # two to warm up
                times.append(time.perf_counter() - t0)
    times.sort()
    medians.append(times[len(times) // 2])
    print(f'{"ResNet-56" if residual else "plain-56"}: {1000 * medians[-1]:.0f} ms an evaluation (median of 9; fastest {1000 * times[0]:.0f} ms)')
print(f'the 21x21 pair, projected: {sum(medians) * 441:.0f} s')
