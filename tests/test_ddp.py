"""DDP on the CPU: two gloo processes launched by torchrun, each with half of the global batch, end where one process
with the whole batch ends (srkd.learner, nbs/04_learner.ipynb, "Multi-GPU and multi-node").

The training loop exercises what DDP can break: a batch-time degradation (per-sample noise from the item seeds, a
per-batch level from `learn.generator()`), EMA, gradient clipping, a DUKD-style second update that accumulates onto
the first ("repo" mode), a GAN discriminator with its own optimizer, an iteration without a model update (all loss
weights 0, as in PDD's first iterations), sharded validation, rank-0 logging and checkpointing. This file is also the torchrun script (`python -m torch.distributed.run ... tests/test_ddp.py OUT`).
"""
import json, os, subprocess, sys
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from srkd.learner import (Callback, CheckpointCB, EMACB, GradClipCB, Learner, LogCB, LossTerm, ValidateCB, pixel_l1,
                          seeded_generator, setup_distributed, sr_of, unwrap)

ITERS, BS = 4, 4


class Toy:
    "HR-only toy images; `ds[(i, seed)]` is a seeded crop/flip of image i (patch=None: whole image with its 2x LR)."
    def __init__(self, n=6, size=20, patch=6, paired=False):
        g = torch.Generator().manual_seed(0)
        self.imgs = F.interpolate(torch.rand(n, 3, size // 4, size // 4, generator=g), size=size, mode='bilinear')
        self.patch, self.paired = patch, paired
    def __len__(self): return len(self.imgs)
    def __getitem__(self, key):
        i, seed = key if isinstance(key, tuple) else (key, None)
        hr = self.imgs[i]
        if self.patch:
            rng = np.random.default_rng(seed)
            y, x = rng.integers(0, hr.shape[-1] - 2 * self.patch + 1, 2)
            hr = hr[:, y:y + 2 * self.patch, x:x + 2 * self.patch]
            if rng.random() < 0.5: hr = hr.flip(-1)
        item = {'hr': hr.contiguous(), 'name': f'toy{i}'}
        if self.paired: item['lr'] = F.avg_pool2d(hr[None], 2)[0]
        return item


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 12, 3, padding=1), nn.PixelShuffle(2))
    def forward(self, x): return self.body(x) + F.interpolate(x, scale_factor=2, mode='nearest')


class Degrade(Callback):
    "lr = 2x2 pool of hr + noise: per-sample noise from the item seed, one level per batch from learn.generator()."
    def before_batch(self, learn):
        hr = learn.batch['hr']
        level = 0.02 * torch.rand((), generator=learn.generator())
        noise = torch.stack([torch.randn(hr.shape[1:], generator=seeded_generator(int(s))) for s in learn.batch['seed']])
        learn.batch['lr'] = F.avg_pool2d(hr + level * noise, 2)


class SecondUpdate(Callback):
    "DUKD 'repo' mode: a second step on 2x-downsampled inputs without clearing the first step's gradients."
    def after_step(self, learn):
        x = learn.batch['lr']
        learn.update(F.l1_loss(learn.model(F.avg_pool2d(x, 2)), x), zero_grad=False, name='second')


class Pause(Callback):
    "All generator weights 0 at iteration 1 (PDD's discriminator-only start): no update of the model, D still trains."
    def before_batch(self, learn):
        for t in learn.loss_terms: t.weight = 0. if learn.iter == 1 else {'l1': 1., 'gan': 0.1}[t.name]


def bce(logits, real): return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(real)))
def gan_g(learn): return bce(unwrap(learn.modules['disc'])(sr_of(learn.preds)), True)

class DiscUpdate(Callback):
    def after_batch(self, learn):
        d = learn.modules['disc']
        learn.update(bce(d(learn.batch['hr']), True) + bce(d(learn.preds.detach()), False), opt='disc', name='d')


class LocalBatch(Callback):
    "Each rank sees its half of the global batch."
    def before_batch(self, learn): assert len(learn.batch['hr']) == BS // learn.world_size, len(learn.batch['hr'])


def train(out):
    torch.manual_seed(0)
    learn = Learner(Net(), Toy(), valid_ds=Toy(n=3, patch=None, paired=True), bs=BS, lr=1e-2,
                    loss_terms=[pixel_l1(), LossTerm('gan', 0.1, gan_g)],
                    cbs=[LocalBatch(), Pause(), Degrade(), SecondUpdate(), DiscUpdate(), EMACB(0.5), GradClipCB(0.5), ValidateCB(ITERS, 'ema'),
                         LogCB(out), CheckpointCB(Path(out) / 'state.pt', every=2)])
    learn.add_module('disc', nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 3, padding=1)),
                     opt_func=partial(torch.optim.Adam, betas=(0.9, 0.99)), lr=1e-3)
    learn.fit(ITERS)
    return learn


def _rows(out, kind): return [json.loads(l) for l in open(Path(out) / f'{kind}.jsonl')]


def test_two_processes_match_one(tmp_path):
    one, two = tmp_path / 'one', tmp_path / 'two'
    train(one)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', __file__, str(two)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    a, b = (torch.load(p / 'state.pt', weights_only=True) for p in (one, two))
    assert a['iter'] == b['iter'] == ITERS and len(b['rng']) == 2
    for group in ('model', 'ema'):
        for k, v in a[group].items(): torch.testing.assert_close(b[group][k], v, atol=1e-6, rtol=0, msg=f'{group}.{k}')
    for k, v in a['modules']['disc'].items(): torch.testing.assert_close(b['modules']['disc'][k], v, atol=1e-6, rtol=0)
    ra, rb = _rows(one, 'train'), _rows(two, 'train')
    assert [r['iter'] for r in rb] == list(range(1, ITERS + 1))
    assert 'l1' not in rb[1] and 'd' in rb[1]
    for x, y in zip(ra, rb):
        assert set(x) == set(y)
        for k in set(x) - {'iter', 'time'}: assert abs(x[k] - y[k]) < 1e-5, (k, x, y)
    va, vb = _rows(one, 'valid'), _rows(two, 'valid')
    assert len(va) == len(vb) == 1 and vb[0]['n'] == 3 and abs(va[0]['psnr'] - vb[0]['psnr']) < 1e-4


if __name__ == '__main__':
    torch.set_num_threads(1)
    rank, world = setup_distributed()
    assert world == 2, world
    learn = train(sys.argv[1])
    assert learn.world_size == 2 and learn.rank == rank and type(learn.model).__name__ == 'DistributedDataParallel'
    torch.distributed.destroy_process_group()
