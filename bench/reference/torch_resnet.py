#!/usr/bin/env python3
"""The lab's nets in PyTorch, as a yardstick for the benchmark harness (bench/run.ts --vs-torch).

Same nets as src/core/nets.ts, from lab_train.py (the lab's PyTorch definition, which the lab also
exports as its full-scale job): 6n+2 layers, 16/32/64 filters, option A shortcuts, BN after every
conv, ReLU after the addition; the plain twin has no addition. Same step: softmax cross-entropy, SGD with momentum
0.9 and weight decay 1e-4. Prints one JSON object: images/s over the timed steps.

Install: apt-get install -y python3-torch (Debian's build), then run with /usr/bin/python3.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

# The nets are the lab's own PyTorch definition, shared with the full-scale job the lab exports.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab_train import CifarNet  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=3, help='blocks per stage (depth 6n+2)')
    p.add_argument('--plain', action='store_true', help='the plain twin (no shortcuts)')
    p.add_argument('--width', type=float, default=1.0)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--reps', type=int, default=5, help='timed steps after the warm-up step')
    p.add_argument('--budget', type=float, default=60.0, help='seconds of timing at most')
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--device', default='cpu')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dev = torch.device(a.device)
    net = CifarNet(a.n, not a.plain, a.width).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(a.batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (a.batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        loss.item()  # wait for the device, as the lab reads its loss back every step

    t0 = time.perf_counter()
    step()
    warmup = time.perf_counter() - t0
    times, start = [], time.perf_counter()
    while len(times) < a.reps and time.perf_counter() - start + warmup < a.budget:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    ips = [a.batch / t for t in times]
    json.dump({
        'ok': True, 'device': a.device if a.device != 'cuda' else torch.cuda.get_device_name(0), 'threads': a.threads,
        'torch': torch.__version__, 'warmupMs': warmup * 1000, 'stepMs': [t * 1000 for t in times],
        'imagesPerSec': {'median': ips[len(ips) // 2], 'min': min(ips), 'max': max(ips)},
    }, sys.stdout)
    print()


if __name__ == '__main__':
    main()
