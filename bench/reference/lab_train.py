#!/usr/bin/env python3
"""Degradation Lab at full scale: one lab experiment trained in PyTorch, written as a lab run file.

The same nets, recipe and schedule as the lab (https://github.com/ - see the lab's README, "Full scale"):
He et al. 2015, sec. 4.2. 6n+2 layers; a 3x3 stem with 16 filters, three stages of 2n 3x3 convs with
16/32/64 filters (times the width), stride 2 at the first conv of stages 2 and 3; BN after every conv,
ReLU after BN and, in a residual block, after the addition; global average pooling and a 10-way FC.
Shortcuts: A identity with subsampling and zero-padded channels, B 1x1 projections where the shape
changes, C projections everywhere. Bottleneck blocks (9n+2 layers): 1x1 to the stage's width, 3x3
(with the stride), 1x1 to 4x the width. Highway nets: y = ReLU(T*F(x) + (1-T)*x), T = sigmoid of a 1x1
conv with its bias at -2 (the config's gateBias: one highway net per value), x projected where the shape changes. Warmup variants: one net per variant. SGD with momentum 0.9 and weight decay 1e-4 on every parameter
(PyTorch's SGD: the lab's update is the same), softmax cross-entropy, BN momentum 0.1, eps 1e-5.
Learning rate: lr, /10 at 50% and /100 at 75% of the run; warmup modes as in the lab ('paper': lr/10
until the running training error over 50 mini-batches is below 80%, never above the step schedule's rate, 'paper-110': the same for nets
of 110 layers or more, 'constant': lr/10 for one epoch, 'linear': a ramp over one epoch). Inputs: the
pixel minus the mean image of the experiment's own training images, over the channel's std; with
augmentation, 4 pixels of zero padding (after normalising), a random 32x32 crop and a random flip.
Every net of the experiment trains on the same batches (one shuffled order per epoch).

  python3 lab_train.py --config config.json --data DIR      CIFAR-10 binary files (data_batch_*.bin)
  python3 lab_train.py --config config.json --download DIR  CIFAR-10 through torchvision, into DIR
  torchrun --nproc_per_node=2 lab_train.py --config config.json --data DIR
      DistributedDataParallel: each process trains on batch/N images of every batch, and its BN
      normalises over those (per-GPU BN, as the paper's 2-GPU runs did); --sync-bn syncs it instead.

It writes the lab's run file (--out, default run.json), which the lab imports (Saved runs > Import),
checkpoints every --checkpoint-every iterations (to --checkpoint) and resumes from it (--resume).

Requires PyTorch (Debian: apt-get install -y python3-torch) and, for --download, torchvision.
"""
import argparse
import datetime
import glob
import json
import math
import os
import pickle
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RUN_FORMAT = 'degradation-lab-run'
RUN_VERSION = 1
MOMENTUM, WEIGHT_DECAY, BN_MOMENTUM, BN_EPSILON = 0.9, 1e-4, 0.1, 1e-5
RUNNING_WINDOW, PAPER_WARMUP_ERROR, PAPER_WARMUP_MIN_SAMPLES, WARMUP_FRACTION, PAPER_WARMUP_DEPTH = 50, 0.8, 10, 0.1, 110
HIGHWAY_GATE_BIAS = -2.0
PAD = 4


# --- the nets ----------------------------------------------------------------------------------

class ConvBN(nn.Module):
    """A conv without bias and its BN. Named as in the lab: 'stem.conv', 's2.b0.conv1', 's2.b0.proj'."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPSILON, momentum=BN_MOMENTUM)

    def forward(self, x):
        return self.bn(self.conv(x))


class Block(nn.Module):
    """A basic block (3x3, 3x3) or a bottleneck (1x1 to width, 3x3 with the stride, 1x1 to 4*width), each conv
    with its BN and ReLU between. family 'plain': ReLU(F(x)); 'residual': ReLU(F(x) + shortcut(x)); 'highway':
    ReLU(T*F(x) + (1-T)*carry(x)), T = sigmoid(1x1 conv of x + bias), bias initialised to HIGHWAY_GATE_BIAS,
    carry = x or, where the shape changes, its 1x1 projection."""

    def __init__(self, cin, width, stride, family, shortcut, block='basic', gate_bias=HIGHWAY_GATE_BIAS):
        super().__init__()
        self.family, self.cin, self.stride = family, cin, stride
        if block == 'basic':
            self.branch = nn.ModuleList([ConvBN(cin, width, 3, stride), ConvBN(width, width, 3, 1)])
            cout = width
        else:
            cout = 4 * width
            self.branch = nn.ModuleList([ConvBN(cin, width, 1, 1), ConvBN(width, width, 3, stride), ConvBN(width, cout, 1, 1)])
        self.cout = cout
        reshapes = stride != 1 or cin != cout
        self.reshapes = reshapes
        projects = (family == 'residual' and (shortcut == 'C' or (shortcut == 'B' and reshapes))) or (family == 'highway' and reshapes)
        self.proj = ConvBN(cin, cout, 1, stride) if projects else None
        self.gate = None
        if family == 'highway':
            self.gate = nn.Conv2d(cin, cout, 1, stride, 0, bias=True)
            nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x):
        out = x
        for i, cb in enumerate(self.branch):
            out = cb(out)
            if i < len(self.branch) - 1:
                out = F.relu(out)
        if self.family == 'plain':
            return F.relu(out)
        if self.family == 'highway':
            t = torch.sigmoid(self.gate(x))
            carry = self.proj(x) if self.proj is not None else x
            return F.relu(t * out + (1 - t) * carry)
        if self.proj is not None:
            return F.relu(out + self.proj(x))
        if self.reshapes:  # option A: every stride-th row and column, zero channels appended (no parameters)
            return F.relu(out + F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.cout - self.cin)))
        return F.relu(out + x)


class CifarNet(nn.Module):
    """The CIFAR net: 6n+2 layers with basic blocks, 9n+2 with bottlenecks; plain, residual (shortcut A, B or C)
    or highway. `residual` may be a bool (plain or residual) or the family's name."""

    def __init__(self, n, residual, width=1.0, shortcut='A', block='basic', gate_bias=HIGHWAY_GATE_BIAS):
        super().__init__()
        family = residual if isinstance(residual, str) else ('residual' if residual else 'plain')
        c = [int(round(16 * width)), int(round(32 * width)), int(round(64 * width))]
        self.depth = (6 if block == 'basic' else 9) * n + 2
        self.family, self.residual, self.shortcut, self.block = family, family == 'residual', shortcut, block
        self.stem = ConvBN(3, c[0], 3, 1)
        blocks, cin = [], c[0]
        for s, width_s in enumerate(c):
            for b in range(n):
                blk = Block(cin, width_s, 2 if s > 0 and b == 0 else 1, family, shortcut, block, gate_bias)
                blocks.append(blk)
                cin = blk.cout
        self.blocks = nn.Sequential(*blocks)
        self.n = n
        self.fc = nn.Linear(cin, 10)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def convs(self):
        """(lab name, ConvBN) for every conv, in the lab's order (stem, then each block's conv1, conv2[, conv3], proj)."""
        out = [('stem.conv', self.stem)]
        for i, blk in enumerate(self.blocks):
            name = f's{i // self.n + 1}.b{i % self.n}'
            out += [(f'{name}.conv{j + 1}', cb) for j, cb in enumerate(blk.branch)]
            if blk.proj is not None:
                out.append((f'{name}.proj', blk.proj))
        return out

    def gates(self):
        """(lab name, gate conv) of every highway block."""
        return [(f's{i // self.n + 1}.b{i % self.n}.gate', blk.gate) for i, blk in enumerate(self.blocks) if blk.gate is not None]

    def load_lab_state(self, tensors):
        """Weights in the lab's names and layouts (conv [kh, kw, in, out], fc [in, out]) into this net."""
        with torch.no_grad():
            for name, cb in self.convs():
                cb.conv.weight.copy_(torch.from_numpy(tensors[name]).permute(3, 2, 0, 1))
                cb.bn.weight.copy_(torch.from_numpy(tensors[f'{name}.bn.gamma']))
                cb.bn.bias.copy_(torch.from_numpy(tensors[f'{name}.bn.beta']))
                if f'{name}.bn.mean' in tensors:
                    cb.bn.running_mean.copy_(torch.from_numpy(tensors[f'{name}.bn.mean']))
                    cb.bn.running_var.copy_(torch.from_numpy(tensors[f'{name}.bn.var']))
            for name, g in self.gates():
                g.weight.copy_(torch.from_numpy(tensors[name]).permute(3, 2, 0, 1))
                g.bias.copy_(torch.from_numpy(tensors[f'{name}.bias']))
            self.fc.weight.copy_(torch.from_numpy(tensors['fc.weight']).t())
            self.fc.bias.copy_(torch.from_numpy(tensors['fc.bias']))


def param_count(net):
    return sum(p.numel() for p in net.parameters())


# --- the lab's config --------------------------------------------------------------------------

def as_list(v):
    """A config list field, also as an older config wrote it (a string: 'both', 'paper')."""
    return [x for x in (v.split(',') if isinstance(v, str) else v)]


def families_of(config):
    fams = []
    for f in as_list(config['families']):
        for g in (['plain', 'residual'] if f == 'both' else [f]):
            if g not in fams:
                fams.append(g)
    return [f for f in ('plain', 'residual', 'highway') if f in fams]


def fits(depth, block):
    k = 6 if block == 'basic' else 9
    return (depth - 2) % k == 0 and depth >= k + 2


def nets_of(config):
    """The lab's netsOf (src/core/config.ts): per depth, per block type the depth fits, per warmup variant, a
    plain net, a residual net per shortcut option and a highway net, as chosen."""
    out = []
    fams = families_of(config)
    warmups = as_list(config['warmup'])
    for d in config['depths']:
        for block in as_list(config.get('blocks', ['basic'])):
            if not fits(d, block):
                continue
            suffix = '-bottleneck' if block == 'bottleneck' else ''
            for w in warmups:
                ws = f'-warmup-{w}' if len(warmups) > 1 else ''
                common = {'depth': d, 'block': block, 'warmup': w}
                if 'plain' in fams:
                    out.append({'id': f'plain-{d}{suffix}{ws}', 'family': 'plain', 'residual': False, 'shortcut': 'A', **common})
                if 'residual' in fams:
                    for s in config['shortcuts']:
                        out.append({'id': f'resnet-{d}-{s}{suffix}{ws}', 'family': 'residual', 'residual': True, 'shortcut': s, **common})
                if 'highway' in fams:
                    biases = as_list(config.get('gateBias', [HIGHWAY_GATE_BIAS]))
                    for gb in biases:
                        g = f'-gate{fmt_number(gb)}' if len(biases) > 1 else ''
                        out.append({'id': f'highway-{d}{g}{suffix}{ws}', 'family': 'highway', 'residual': False, 'shortcut': 'A', 'gateBias': gb, **common})
    return out


def label_of(entry, config=None):
    """The lab's netLabelOf: "ResNet-56 (B)", "Highway-20", "plain-29 bottleneck", with the warmup when there are variants."""
    kind = {'plain': 'plain', 'residual': 'ResNet', 'highway': 'Highway'}[entry.get('family', 'residual' if entry['residual'] else 'plain')]
    base = f"{kind}-{entry['depth']}" + (' bottleneck' if entry.get('block') == 'bottleneck' else '')
    if entry['residual'] and entry['shortcut'] != 'A':
        base += f" ({entry['shortcut']})"
    if config is not None and entry.get('family') == 'highway' and len(as_list(config.get('gateBias', [HIGHWAY_GATE_BIAS]))) > 1:
        base += f" (gate bias {fmt_number(entry.get('gateBias', HIGHWAY_GATE_BIAS))})"
    if config is not None and len(as_list(config['warmup'])) > 1:
        base += f", warmup {entry['warmup']}"
    return base


def fmt_number(x):
    """A number as JavaScript's String() writes it: -2, not -2.0; 0.5 as 0.5."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def blocks_per_stage(entry):
    return (entry['depth'] - 2) // (6 if entry.get('block', 'basic') == 'basic' else 9)


def warmup_for_depth(mode, depth):
    if mode != 'paper-110':
        return mode
    return 'paper' if depth >= PAPER_WARMUP_DEPTH else 'off'


class Schedule:
    """The lab's learningRate (src/core/schedule.ts), with the paper's warmup rule fed by one net's errors."""

    def __init__(self, config, warmup, per_epoch):
        self.lr, self.iterations, self.warmup, self.epoch = config['lr'], config['iterations'], warmup, max(1, per_epoch)
        self.errors, self.window_sum, self.warmup_end = [], 0.0, None

    def step_schedule(self, it):
        if it >= math.floor(0.75 * self.iterations):
            return self.lr / 100
        if it >= math.floor(0.5 * self.iterations):
            return self.lr / 10
        return self.lr

    def at(self, it):
        base = self.step_schedule(it)
        if self.warmup == 'off':
            return base
        if self.warmup == 'paper':
            return min(self.lr * WARMUP_FRACTION, base) if self.warmup_end is None or it <= self.warmup_end else base
        if self.warmup == 'constant':
            return min(self.lr * WARMUP_FRACTION, base) if it < self.epoch else base
        if self.warmup == 'linear':
            return min(self.lr * (it + 1) / self.epoch, base) if it < self.epoch else base
        raise ValueError(f'unknown warmup {self.warmup}')

    def running_error(self):
        count = min(len(self.errors), RUNNING_WINDOW)
        return 1.0 if count == 0 else self.window_sum / count

    def record(self, error):
        self.errors.append(error)
        self.window_sum += error
        if len(self.errors) > RUNNING_WINDOW:
            self.window_sum -= self.errors[len(self.errors) - 1 - RUNNING_WINDOW]
        if self.warmup_end is None and len(self.errors) >= PAPER_WARMUP_MIN_SAMPLES and self.running_error() < PAPER_WARMUP_ERROR:
            self.warmup_end = len(self.errors) - 1


# --- data --------------------------------------------------------------------------------------

def read_bin(path):
    """A CIFAR-10 binary batch: records of 1 label byte and 3072 pixel bytes (3 planes of 32x32), as NHWC uint8."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 3073:
        raise SystemExit(f'{path} is {raw.size} bytes, not a multiple of the 3073-byte CIFAR-10 record')
    rec = raw.reshape(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), rec[:, 0].astype(np.int64)


def load_cifar(data_dir=None, download_dir=None):
    if data_dir:
        train = sorted(glob.glob(os.path.join(data_dir, 'data_batch_*.bin')))
        test = os.path.join(data_dir, 'test_batch.bin')
        if not train or not os.path.exists(test):
            raise SystemExit(f'{data_dir} holds no CIFAR-10 binary files (data_batch_*.bin and test_batch.bin)')
        parts = [read_bin(p) for p in train]
        xtr, ytr = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        xte, yte = read_bin(test)
        return xtr, ytr, xte, yte, f'CIFAR-10 from {data_dir} ({len(train)} training batch{"es" if len(train) > 1 else ""})'
    try:
        import torchvision
    except ImportError:
        raise SystemExit('--download needs torchvision (pip install torchvision); or give --data DIR with the binary files')
    tr = torchvision.datasets.CIFAR10(download_dir, train=True, download=True)
    te = torchvision.datasets.CIFAR10(download_dir, train=False, download=True)
    return tr.data, np.array(tr.targets), te.data, np.array(te.targets), 'CIFAR-10 (torchvision)'


def subsets(xtr, ytr, xte, yte, config):
    """The lab's selectSubsets: the first trainSize training images; the first testSize test images, or with
    split 'paper' a held-out tail of the training set (5k of 50k)."""
    if config['split'] == 'paper':
        held = min(5000, len(xtr) // 10)
        pool = len(xtr) - held
        return xtr[:min(config['trainSize'], pool)], ytr[:min(config['trainSize'], pool)], xtr[pool:pool + min(config['testSize'], held)], ytr[pool:pool + min(config['testSize'], held)]
    return xtr[:config['trainSize']], ytr[:config['trainSize']], xte[:config['testSize']], yte[:config['testSize']]


def input_stats(x):
    """The lab's inputStats: the mean image, and each channel's std over all training pixels."""
    xf = x.astype(np.float64)
    return xf.mean(axis=0).astype(np.float32), np.array([xf[..., c].std() or 1.0 for c in range(3)], dtype=np.float32)


def make_batch(x, idx, mean, std, augment, gen):
    """Normalised NCHW float batch; with augmentation, zero padding of 4 (after normalising), a random crop and flip."""
    b = (x[idx].astype(np.float32) - mean) / std
    b = torch.from_numpy(b).permute(0, 3, 1, 2)
    if augment:
        n = b.shape[0]
        padded = F.pad(b, (PAD, PAD, PAD, PAD))
        dx = torch.randint(0, 2 * PAD + 1, (n,), generator=gen)
        dy = torch.randint(0, 2 * PAD + 1, (n,), generator=gen)
        flip = torch.randint(0, 2, (n,), generator=gen)
        b = torch.stack([padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32] for i in range(n)])
        b = torch.where(flip.view(-1, 1, 1, 1).bool(), b.flip(3), b)
    return b.contiguous()


# --- training ----------------------------------------------------------------------------------

def bn_readout(net):
    """Fig. 7 (b), the lab's layerStd: each 3x3 layer's sqrt(mean gamma^2 + var beta), the std its output has when BN
    normalises by the batch's own statistics (src/core/fig7.ts)."""
    out = []
    for _, cb in net.convs():
        if cb.conv.kernel_size[0] != 3:
            continue
        g, b = cb.bn.weight.detach().double(), cb.bn.bias.detach().double()
        out.append(math.sqrt(max(0.0, float((g * g).mean() + (b * b).mean() - b.mean() ** 2))))
    return out


def evaluate(net, x, y, device, batch=500):
    """Test error and loss with BN in eval mode, and each 3x3 layer's response std with BN in eval mode: the paper's
    Fig. 7, variant (a), the lab's layerStdEval (on every test image; the lab measures the first 128)."""
    net.eval()
    errors, loss, count = 0, 0.0, 0
    convs = [cb for _, cb in net.convs() if cb.conv.kernel_size[0] == 3]
    sums = [[0.0, 0.0, 0] for _ in convs]
    hooks = [cb.register_forward_hook(lambda m, i, o, s=s: s.__setitem__(slice(0, 3), [s[0] + o.double().sum().item(), s[1] + (o.double() ** 2).sum().item(), s[2] + o.numel()])) for cb, s in zip(convs, sums)]
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb, yb = x[i:i + batch].to(device), y[i:i + batch].to(device)
            out = net(xb)
            loss += F.cross_entropy(out, yb, reduction='sum').item()
            errors += (out.argmax(1) != yb).sum().item()
            count += len(yb)
    for h in hooks:
        h.remove()
    net.train()
    std = [math.sqrt(max(0.0, s[1] / s[2] - (s[0] / s[2]) ** 2)) if s[2] else 0.0 for s in sums]
    return errors / max(1, count), loss / max(1, count), std


def grad_norms(net):
    """Weight-gradient norm of every 3x3 conv and the FC weight (the lab's gradNormLayers)."""
    g = [cb.conv.weight.grad for _, cb in net.convs() if cb.conv.kernel_size[0] == 3] + [net.fc.weight.grad]
    return [float(t.norm()) if t is not None else 0.0 for t in g]


def empty_series():
    return {'train': {'it': [], 'loss': [], 'err': [], 'runErr': [], 'lr': []}, 'test': {'it': [], 'err': [], 'loss': []}, 'taps': []}


def agreement(folder):
    """The lab's agreement test (scripts/torch-agreement.test.ts): one net from the lab's weights, trained on the
    lab's batches at the lab's learning rates; prints each step's loss as JSON."""
    with open(os.path.join(folder, 'spec.json')) as f:
        spec = json.load(f)
    torch.set_num_threads(1)
    dtype = torch.float64 if os.environ.get('LAB_AGREEMENT_F64') else torch.float32
    net = CifarNet(spec['n'], spec['residual'], spec['width'], spec['shortcut'])
    tensors = {k: np.frombuffer(bytes.fromhex(v['hex']), dtype='<f4').reshape(v['shape']).copy() for k, v in spec['weights'].items()}
    net.load_lab_state(tensors)
    net = net.to(dtype)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    size = spec['batch']
    x = np.fromfile(os.path.join(folder, 'batches.f32'), dtype='<f4').reshape(len(spec['lrs']), size, 32, 32, 3)
    y = np.fromfile(os.path.join(folder, 'labels.u8'), dtype=np.uint8).reshape(len(spec['lrs']), size).astype(np.int64)
    losses = []
    for step, lr in enumerate(spec['lrs']):
        for g in opt.param_groups:
            g['lr'] = lr
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(torch.from_numpy(x[step]).permute(0, 3, 1, 2).contiguous().to(dtype)), torch.from_numpy(y[step]))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    json.dump({'losses': losses, 'torch': torch.__version__}, sys.stdout)


def landscape(folder):
    """The lab's landscape test (scripts/torch-landscape.test.ts): a net from the lab's weights and BN statistics, its
    loss in eval mode (BN with the running statistics) at weights + x*d1 + y*d2 for every point of the grid, with the
    lab's two directions (in the lab's names and layouts); prints the grid of losses as JSON."""
    with open(os.path.join(folder, 'spec.json')) as f:
        spec = json.load(f)
    torch.set_num_threads(1)
    unhex = lambda v: np.frombuffer(bytes.fromhex(v['hex']), dtype='<f4').reshape(v['shape']).copy()
    net = CifarNet(spec['n'], spec['residual'], spec['width'], spec['shortcut'])
    weights = {k: unhex(v) for k, v in spec['weights'].items()}
    dirs = [{k: unhex(v) for k, v in d.items()} for d in spec['dirs']]
    size = spec['size']
    x = torch.from_numpy(np.fromfile(os.path.join(folder, 'sample.f32'), dtype='<f4').reshape(-1, size, size, 3)).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(np.fromfile(os.path.join(folder, 'labels.u8'), dtype=np.uint8).astype(np.int64))
    net.eval()
    grid = []
    for gy in spec['ys']:
        row = []
        for gx in spec['xs']:
            moved = {k: (w + np.float32(gx) * dirs[0][k] + np.float32(gy) * dirs[1][k]).astype(np.float32) if k in dirs[0] else w for k, w in weights.items()}
            net.load_lab_state(moved)
            with torch.no_grad():
                row.append(F.cross_entropy(net(x), y).item())
        grid.append(row)
    json.dump({'loss': grid}, sys.stdout)


def param_counts(specs):
    """The nets' parameter counts, for the lab's test of its own (scripts/torch-agreement.test.ts): specs is JSON
    [[n, family, width, shortcut, block], ...]; prints [count, ...]."""
    json.dump([param_count(CifarNet(n, family, width, shortcut, block)) for n, family, width, shortcut, block in json.loads(specs)], sys.stdout)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--agreement':
        return agreement(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == '--landscape':
        return landscape(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == '--param-counts':
        return param_counts(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == '--nets':
        config = json.loads(sys.argv[2])
        return json.dump([{'id': e['id'], 'label': label_of(e, config), 'warmup': e['warmup'], **({'gateBias': e['gateBias']} if 'gateBias' in e else {})} for e in nets_of(config)], sys.stdout)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog='\n'.join(__doc__.splitlines()[1:]))
    p.add_argument('--config', required=True, help="the lab's config JSON (exported from the lab)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--data', help='a folder with the CIFAR-10 binary files')
    src.add_argument('--download', metavar='DIR', help='download CIFAR-10 through torchvision into DIR')
    p.add_argument('--out', default='run.json', help='the lab run file to write')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--iterations', type=int, help="stop after this many iterations (the schedule stays the config's)")
    p.add_argument('--checkpoint', default='checkpoint.pt')
    p.add_argument('--checkpoint-every', type=int, default=1000)
    p.add_argument('--resume', action='store_true', help='continue from --checkpoint')
    p.add_argument('--sync-bn', action='store_true', help='with torchrun: BN statistics over the whole batch (SyncBatchNorm)')
    p.add_argument('--threads', type=int, help='CPU threads')
    a = p.parse_args()

    with open(a.config) as f:
        config = json.load(f)
    config = config.get('config', config)
    distributed = 'LOCAL_RANK' in os.environ
    rank, world = 0, 1
    if distributed:
        import torch.distributed as dist
        dist.init_process_group('nccl' if a.device.startswith('cuda') else 'gloo')
        rank, world = dist.get_rank(), dist.get_world_size()
        if a.device.startswith('cuda'):
            a.device = f'cuda:{int(os.environ["LOCAL_RANK"])}'
            torch.cuda.set_device(a.device)
    if config['batchSize'] % world:
        raise SystemExit(f"batch {config['batchSize']} does not split over {world} processes")
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    seed = int(config['seed'])
    torch.manual_seed(seed)

    xtr, ytr, xte, yte, dataset = load_cifar(a.data, a.download)
    xtr, ytr, xte, yte = subsets(xtr, ytr, xte, yte, config)
    mean, std = input_stats(xtr)
    xtest = torch.from_numpy(((xte.astype(np.float32) - mean) / std)).permute(0, 3, 1, 2).contiguous()
    ytest = torch.from_numpy(yte)
    batch, iterations = config['batchSize'], config['iterations']
    per_epoch = len(xtr) // batch
    stop = min(iterations, a.iterations or iterations)

    entries = nets_of(config)
    nets, opts, scheds = {}, {}, {}
    for e in entries:
        net = CifarNet(blocks_per_stage(e), e['family'], config['width'], e['shortcut'], e['block'], e.get('gateBias', HIGHWAY_GATE_BIAS))
        if distributed and a.sync_bn:
            net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        net = net.to(device)
        nets[e['id']] = net
        opts[e['id']] = torch.optim.SGD(net.parameters(), lr=config['lr'], momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        scheds[e['id']] = Schedule(config, warmup_for_depth(e['warmup'], e['depth']), per_epoch)
    train_nets = {k: (nn.parallel.DistributedDataParallel(v, device_ids=[device] if device.type == 'cuda' else None) if distributed else v) for k, v in nets.items()}
    series = {e['id']: empty_series() for e in entries}
    status = {e['id']: 'training' for e in entries}
    diverged = {e['id']: None for e in entries}
    start_it, elapsed = 0, 0.0

    if a.resume and os.path.exists(a.checkpoint):
        ck = torch.load(a.checkpoint, map_location=device)
        for k in nets:
            nets[k].load_state_dict(ck['nets'][k])
            opts[k].load_state_dict(ck['opts'][k])
            for err in ck['errors'][k]:
                scheds[k].record(err)
        series, status, diverged, start_it, elapsed = ck['series'], ck['status'], ck['diverged'], ck['iteration'], ck['elapsed']
        print(f'resumed from {a.checkpoint} at iteration {start_it}', file=sys.stderr)
    elif rank == 0:
        for e in entries:
            err, loss, layer_std = evaluate(nets[e['id']], xtest, ytest, device)
            s = series[e['id']]['test']
            s['it'].append(0), s['err'].append(err), s['loss'].append(loss)
            series[e['id']]['taps'].append({'it': 0, 'layerStd': bn_readout(nets[e['id']]), 'layerStdEval': layer_std, 'gradNorms': []})

    def checkpoint(it):
        if rank != 0:
            return
        torch.save({'nets': {k: v.state_dict() for k, v in nets.items()}, 'opts': {k: o.state_dict() for k, o in opts.items()},
                    'errors': {k: s.errors for k, s in scheds.items()}, 'series': series, 'status': status, 'diverged': diverged,
                    'iteration': it, 'elapsed': elapsed}, a.checkpoint)

    gen = torch.Generator().manual_seed(seed)
    order, order_epoch = None, -1
    t0 = time.perf_counter()
    it = start_it
    for it in range(start_it, stop):
        epoch = it // per_epoch
        if epoch != order_epoch:
            order, order_epoch = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch)).numpy(), epoch
        idx = order[(it % per_epoch) * batch:(it % per_epoch + 1) * batch]
        aug_gen = torch.Generator().manual_seed(seed * 7_919 + it)
        xb_all = make_batch(xtr, idx, mean, std, config['augment'], aug_gen)
        yb_all = torch.from_numpy(ytr[idx])
        share = batch // world
        xb, yb = xb_all[rank * share:(rank + 1) * share].to(device), yb_all[rank * share:(rank + 1) * share].to(device)
        evaluate_now = (it + 1) % config['evalEvery'] == 0 or it + 1 == iterations
        for e in entries:
            k = e['id']
            if status[k] != 'training':
                continue
            lr = scheds[k].at(it)
            for g in opts[k].param_groups:
                g['lr'] = lr
            opts[k].zero_grad(set_to_none=True)
            out = train_nets[k](xb)
            loss = F.cross_entropy(out, yb)
            loss.backward()
            norms = grad_norms(nets[k]) if evaluate_now else []
            opts[k].step()
            stats = torch.stack([loss.detach() * len(yb), (out.argmax(1) != yb).sum().float(), torch.tensor(float(len(yb)), device=device)])
            if distributed:
                torch.distributed.all_reduce(stats)
            loss_v, errors_v, n_v = (float(v) for v in stats)
            if not math.isfinite(loss_v):
                status[k], diverged[k] = 'diverged', it
                continue
            err = errors_v / n_v
            scheds[k].record(err)
            s = series[k]['train']
            s['it'].append(it + 1), s['loss'].append(loss_v / n_v), s['err'].append(err), s['runErr'].append(scheds[k].running_error()), s['lr'].append(lr)
            if evaluate_now and rank == 0:
                terr, tloss, layer_std = evaluate(nets[k], xtest, ytest, device)
                t = series[k]['test']
                t['it'].append(it + 1), t['err'].append(terr), t['loss'].append(tloss)
                series[k]['taps'].append({'it': it + 1, 'layerStd': bn_readout(nets[k]), 'layerStdEval': layer_std, 'gradNorms': norms})
            if it + 1 >= iterations:
                status[k] = 'done'
        if (it + 1) % a.checkpoint_every == 0:
            elapsed_now = elapsed + time.perf_counter() - t0
            elapsed, t0 = elapsed_now, time.perf_counter()
            checkpoint(it + 1)
            if rank == 0:
                print(f'iteration {it + 1}/{iterations}: ' + ', '.join(f"{label_of(e, config)} {100 * scheds[e['id']].running_error():.1f}%" for e in entries), file=sys.stderr)
    elapsed += time.perf_counter() - t0
    done_it = stop if stop > start_it else start_it
    checkpoint(done_it)
    if rank != 0:
        return
    dev_name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'
    run = {
        'format': RUN_FORMAT, 'version': RUN_VERSION,
        'name': f"{'·'.join(str(d) for d in config['depths'])} PyTorch full scale, {done_it:,} it",
        'createdAt': datetime.datetime.now(datetime.timezone.utc).isoformat().replace('+00:00', 'Z'),
        'config': config,
        'backend': f'PyTorch {torch.__version__} on {dev_name}' + (f' ×{world} (DDP, {"synced" if a.sync_bn else "per-GPU"} BN)' if world > 1 else ''),
        'dataset': f'{dataset}; trained on {len(xtr):,}, tested on {len(xte):,}',
        'status': 'done' if done_it >= iterations else 'stopped',
        'progress': {'iteration': done_it, 'iterations': iterations, 'imagesPerSec': (done_it - start_it) * batch * len(entries) / max(1e-9, elapsed), 'elapsedMs': elapsed * 1000, 'etaMs': None},
        'nets': [{'id': e['id'], 'label': label_of(e, config), 'depth': e['depth'], 'residual': e['residual'], 'family': e['family'],
                  'shortcut': e['shortcut'], 'block': e['block'], 'warmup': e['warmup'],
                  'params': param_count(nets[e['id']]), 'status': status[e['id']] if status[e['id']] != 'training' else ('done' if done_it >= iterations else 'training'),
                  'divergedAt': diverged[e['id']]} for e in entries],
        'series': series,
    }
    with open(a.out, 'w') as f:
        json.dump(run, f)
    print(f'wrote {a.out}: {done_it:,} iterations of {len(entries)} nets in {elapsed:.0f} s on {dev_name}', file=sys.stderr)


if __name__ == '__main__':
    main()
