#!/usr/bin/env python3
"""The GPU kit's PyTorch side: the kit's throughput cases (cases.json, written from bench/gpu-kit/cases.ts)
in one process, eager and, where it works, torch.compile. The nets are the lab's own PyTorch definition
(lab_train.py, beside this file in the kit). Each case steps every net once a round on the same batch and
reads every loss back (loss.item()), as the lab does: softmax cross-entropy, SGD with momentum 0.9 and
weight decay 1e-4, fp32. Writes one JSON object (--out).

  python3 torch_kit.py --cases cases.json --mode full --out torch.json [--device cuda] [--no-compile]
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..', 'reference')]  # in the kit, and in the repository
from lab_train import CifarNet  # noqa: E402


def time_case(case, device, compiled, seconds):
    torch.manual_seed(1)
    nets = [CifarNet(o['n'], o.get('family', 'residual'), o['width'], o.get('shortcut', 'A'), o.get('block', 'basic')).to(device)
            for o in case['nets']]
    opts = [torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4) for net in nets]
    fwd = [torch.compile(net) if compiled else net for net in nets]
    x = torch.randn(case['batch'], 3, 32, 32, device=device)
    y = torch.randint(0, 10, (case['batch'],), device=device)

    def round_():
        losses = []
        for f, opt in zip(fwd, opts):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(f(x), y)
            loss.backward()
            opt.step()
            losses.append(loss)
        for loss in losses:
            loss.item()  # wait for the device, as the lab reads its losses back every round

    t0 = time.perf_counter()
    round_()  # compiles, where compiling
    round_()
    warmup = time.perf_counter() - t0
    times, start = [], time.perf_counter()
    while len(times) < case['minReps'] or (time.perf_counter() - start < seconds and len(times) < 50):
        t = time.perf_counter()
        round_()
        times.append(time.perf_counter() - t)
    times.sort()
    median = times[len(times) // 2]
    return {'imagesPerSec': case['batch'] * len(nets) / median, 'roundMs': median * 1000, 'reps': len(times), 'warmupMs': warmup * 1000}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--cases', required=True)
    p.add_argument('--mode', default='full', choices=['full', 'short'])
    p.add_argument('--out', required=True)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--no-compile', action='store_true', help='eager only')
    p.add_argument('--seconds', type=float, help='timing per case (default 5, short mode 1)')
    p.add_argument('--compile-budget', type=float, default=240.0,
                   help='seconds for all torch.compile cases together (compiling takes a while per net); past it, eager only')
    a = p.parse_args()
    cases = json.load(open(a.cases))['throughput'][a.mode]
    seconds = a.seconds if a.seconds is not None else (1.0 if a.mode == 'short' else 5.0)
    device = torch.device(a.device)
    name = torch.cuda.get_device_name(0) if device.type == 'cuda' else f'CPU ({torch.get_num_threads()} threads)'
    compile_ok = not a.no_compile and hasattr(torch, 'compile')
    rows, compile_spent = [], 0.0
    for case in cases:
        row = {'name': case['name'], 'eager': None, 'compiled': None}
        try:
            row['eager'] = time_case(case, device, False, seconds)
        except Exception as e:  # noqa: BLE001 - a failure is a figure to report, not a crash
            row['note'] = f'eager failed: {type(e).__name__}: {str(e)[:120]}'
        if case.get('compile', True) is False:
            row['note'] = 'eager only (the case says so: compiling it would take minutes)'
        elif compile_ok and compile_spent > a.compile_budget:
            compile_ok = False
            row['note'] = f'torch.compile skipped: past its {a.compile_budget:.0f} s budget'
        if compile_ok and case.get('compile', True) is not False:
            t0 = time.perf_counter()
            try:
                row['compiled'] = time_case(case, device, True, seconds)
            except Exception as e:  # noqa: BLE001
                compile_ok = False  # one failure is enough: the rest would fail the same way, slowly
                row['note'] = f'torch.compile failed: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ""}'
            compile_spent += time.perf_counter() - t0
        elif not a.no_compile and not hasattr(torch, 'compile'):
            row['note'] = row.get('note', f'no torch.compile in PyTorch {torch.__version__}')
        rows.append(row)
        e, c = row['eager'], row['compiled']
        print(f"  {case['name']}: eager {e['imagesPerSec']:.0f} img/s" if e else f"  {case['name']}: {row.get('note')}",
              f"compiled {c['imagesPerSec']:.0f} img/s" if c else '', flush=True)
    json.dump({'torch': torch.__version__, 'device': name, 'rows': rows}, open(a.out, 'w'), indent=2)


if __name__ == '__main__':
    main()
