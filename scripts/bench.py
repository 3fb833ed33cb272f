# %% [markdown]
# # Benchmarks
#
# > Training throughput of the EDSR and RCAN presets, the cost of a distillation step next to its parts, and the memory of tiled inference, measured side by side in one run.
#
# - skip_exec: true

# %% [markdown]
# Run it with papermill (`nbdev_test` skips this notebook: timings taken while the other chapters run in parallel
# would mean nothing; `tests/test_bench.py` runs its `smoke` preset):
#
# ```sh
# make bench                                                                      # the cpu preset into runs/bench
# papermill nbs/bench.ipynb runs/bench/bench.ipynb --cwd nbs -p threads 1 -p out_dir $PWD/runs/bench   # on a shared CPU
# papermill nbs/bench.ipynb out.ipynb --cwd nbs -p preset paper -p out_dir $PWD/runs/bench_gpu           # paper-size models, GPU
# papermill nbs/bench.ipynb out.ipynb --cwd nbs -p preset paper -p teacher_dtype bfloat16 -p out_dir $PWD/runs/bench_gpu_bf16
# ```
#
# The run writes `bench.json` (every measurement, the recipe, the machine and the command) and `bench.png` into
# `out_dir`. Runs worth citing are copied to `nbs/results/bench/` with a README that holds the command, the machine
# and the load; the figures quoted in the docs come from there.

# %% tags=["parameters"]
preset: str = 'cpu'  # smoke (seconds, for tests), cpu (a few minutes on 2 cores) or paper (paper-size models, for a GPU)
device: str = 'auto'  # auto, cpu, cuda, cuda:1
models: str = None  # comma-separated model presets for the throughput table; None means the recipe's
warmup: int = None  # untimed iterations of every measured part before timing starts; None means the recipe's
timed: int = None  # timed iterations of every part in each repeat; None means the recipe's
repeats: int = None  # interleaved repeats; None means the recipe's
threads: int = None  # torch CPU threads; None keeps torch's default (use 1 on a machine shared with other work)
teacher_dtype: str = None  # dtype of the frozen teacher, e.g. bfloat16; None keeps float32
seed: int = 0  # seed of the initial weights and of the data order
out_dir: str = 'runs/bench'  # folder for bench.json and bench.png

# %%
import copy, json, os, resource, subprocess, sys, tempfile, time
from types import SimpleNamespace
from pathlib import Path

import numpy as np
import torch
import matplotlib.pyplot as plt
from torch.utils.data import default_collate

from srkd.data import atomic_path, atomic_write_text, resolve_data
from srkd.distill import FrozenTeacher
from srkd.experiment import resolve_device, standard_callbacks
from srkd.records import markdown_table, run_record
from srkd.fakd import fakd_learner, fakd_recipe, fakd_tap_pairs
from srkd.methods import pick
from srkd.runs import SCRATCH_PRESETS
from srkd.inference import count_params
from srkd.learner import Callback, Learner, ValidateCB, pixel_l1, to_device
from srkd.models import build_model

started, load_before = time.time(), os.getloadavg()
params = dict(preset=preset, device=device, models=models, warmup=warmup, timed=timed, repeats=repeats,
              threads=threads, teacher_dtype=teacher_dtype, seed=seed, out_dir=out_dir)

# %% [markdown]
# ## Recipes
#
# Each preset names what is measured. Batch and patch sizes are those of the recipes that train these models:
# `train_sr.ipynb`'s (`srkd.runs.SCRATCH_PRESETS`) for throughput and FAKD's (`srkd.fakd.FAKD_PRESETS`) for the
# distillation pair: RCAN teacher and RCAN student, batch 16 of 48×48 LR patches at ×4 in the paper, batch 8 of 24×24
# at ×2 on the CPU. The `smoke` preset shrinks everything so that the tests run in seconds; its numbers mean nothing.
# Tiled inference runs one model on square LR images of `image_sizes` pixels, in `tiles` and whole (`None`).

# %%
BENCH_RECIPES = {
    'smoke': dict(models=('edsr_tiny', 'rcan_tiny_s'), scale=2, bs=2, patch_size=12,
                  fakd=('cpu', 2), distill_bs=2, distill_patch_size=12, warmup=1, timed=2, repeats=2,
                  loop_models=('edsr_tiny',), tile_model='edsr_tiny', tile_scale=2, image_sizes=(64, 128), tiles=(32, None), overlap=8, infer_repeats=1),
    'cpu': dict(models=('edsr_tiny', 'rcan_tiny_t', 'rcan_tiny_s'), scale=2,
                bs=SCRATCH_PRESETS['cpu'].bs, patch_size=SCRATCH_PRESETS['cpu'].patch_size,
                fakd=('cpu', 2), distill_bs=None, distill_patch_size=None, warmup=3, timed=2, repeats=30,
                loop_models=('edsr_tiny', 'rcan_tiny_s'), tile_model='rcan_tiny_t', tile_scale=2, image_sizes=(256, 512), tiles=(64, 128, None), overlap=16, infer_repeats=2),
    'paper': dict(models=('edsr_m', 'rcan', 'rcan_b6'), scale=4,
                  bs=SCRATCH_PRESETS['paper'].bs, patch_size=SCRATCH_PRESETS['paper'].patch_size,
                  fakd=('paper', 4), distill_bs=None, distill_patch_size=None, warmup=10, timed=10, repeats=10,
                  loop_models=('edsr_m', 'rcan'), tile_model='rcan', tile_scale=4, image_sizes=(256, 512), tiles=(64, 128, 256, None), overlap=16, infer_repeats=3),
}

# %%
set_ = dict(models=tuple(m.strip() for m in models.split(',') if m.strip()) if models else None, warmup=warmup, timed=timed, repeats=repeats)
r = pick(BENCH_RECIPES, preset) | {k: v for k, v in set_.items() if v is not None}
for name in ('warmup', 'timed', 'repeats'):  # warm-up: at least one iteration, so that one-off set-up is never timed
    if not isinstance(r[name], int) or r[name] < 1: raise ValueError(f"{name}={r[name]!r}: expected an int >= 1")
if not r['models']: raise ValueError(f"models={models!r} names no model preset")
dtypes = {None: None, 'float32': None, 'bfloat16': torch.bfloat16, 'float16': torch.float16}
if teacher_dtype not in dtypes: raise ValueError(f"teacher_dtype={teacher_dtype!r}: expected one of {list(dtypes)}")
if threads is not None: torch.set_num_threads(threads)
dev = resolve_device(device)
out = Path(out_dir)
print(json.dumps(r, indent=1))
print(f'device {dev}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}, load average {load_before}')


# %% [markdown]
# ## How time is measured
#
# Every number below is the wall time of one unit of work, bracketed by `torch.cuda.synchronize` on a GPU (so that
# it is the time of the work, not of queueing it). Training iterations go through the core `Learner`, the loop every
# chapter trains with (forward under bf16 autocast on CUDA as it does, loss terms, backward, Adam step); a callback
# takes the time from `before_batch` (the batch already on the device) to `after_iter`, so data loading is not
# counted. The parts of a comparison run **interleaved** in the same process: after a warm-up of every part, each
# repeat runs `timed` iterations of every part in turn, starting one part later at every repeat, so that a change of
# machine load or clock during the run falls on all parts alike. Reported: the median and the interquartile range
# (IQR) of all `timed × repeats` iterations; ratios are taken between medians of the same run. Each sample also
# counts the process's minor page faults: on the CPU, the pages of a large new allocation are mapped and zeroed by
# the kernel when first touched, a cost that belongs to no operator (PyTorch's CPU allocator keeps nothing; glibc
# hands large freed blocks back to the system).
#
# On a CPU shared with other work, run with `-p threads 1`: with more threads than idle cores, the threads of an
# operator wait for each other and an iteration can take ten times longer.

# %%
def sync(device:torch.device):
    "Wait for the device's queued work (CUDA); nothing on the CPU."
    if device.type == 'cuda': torch.cuda.synchronize(device)

def minor_faults() -> int:
    "Minor page faults of this process so far: pages the kernel mapped (and zeroed) when they were first touched."
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

class Stopwatch:
    "Wall time and minor page faults from `start()` to `stop()`, synchronised with the device."
    def __init__(self, device:torch.device): self.device = device
    def start(self): sync(self.device); self.t0, self.f0 = time.perf_counter(), minor_faults()
    def stop(self) -> tuple: sync(self.device); return time.perf_counter() - self.t0, minor_faults() - self.f0

def timed_call(f, device:torch.device) -> tuple:
    "(seconds, minor page faults) of `f()`."
    watch = Stopwatch(device); watch.start()
    f()
    return watch.stop()

class IterTimer(Callback):
    "(seconds, minor page faults) of every training iteration, from `before_batch` to `after_iter`."
    order = 100
    def __init__(self): self.samples = []
    def before_batch(self, learn): self.watch = Stopwatch(learn.device); self.watch.start()
    def after_iter(self, learn): self.samples.append(self.watch.stop())

def learner_part(learn:Learner, timer:IterTimer):
    "A part that trains `learn` for n more iterations and returns their samples."
    def run(n):
        k = len(timer.samples)
        learn.fit(learn.iter + n)
        return timer.samples[k:]
    return run

def interleaved(parts:dict, warmup:int, timed:int, repeats:int) -> dict:
    "{part: [times of repeat 0, times of repeat 1, ...]}: every part warmed up, then run in rotating order."
    for run in parts.values(): run(warmup)
    names, times = list(parts), {k: [] for k in parts}
    for i in range(repeats):
        for k in names[i % len(names):] + names[:i % len(names)]: times[k].append(parts[k](timed))
    return times

def stats(blocks:list) -> dict:
    "Median, quartiles and count (ms) of all iterations of all repeats, the median page faults, and the samples."
    a = np.array([x for b in blocks for x in b], dtype=float).reshape(-1, 2)
    ms = 1e3 * a[:, 0]
    q1, med, q3 = np.percentile(ms, [25, 50, 75])
    return dict(median=float(med), q1=float(q1), q3=float(q3), n=len(ms), minor_faults=float(np.median(a[:, 1])),
                samples=[float(x) for x in ms])


# %%
s = stats([[(0.001, 0), (0.003, 6)], [(0.002, 2)]])
assert (s['median'], s['q1'], s['n'], s['minor_faults']) == (2.0, 1.5, 3, 2.0)
calls = []
order = interleaved({k: (lambda n, k=k: calls.append((k, n)) or [(0., 0)] * n) for k in 'abc'}, warmup=1, timed=2, repeats=2)
assert calls == [('a', 1), ('b', 1), ('c', 1), ('a', 2), ('b', 2), ('c', 2), ('b', 2), ('c', 2), ('a', 2)]
assert [len(v) for v in order.values()] == [2, 2, 2]


# %% [markdown]
# ## Training throughput
#
# One `Learner` per model, as `train_sr.ipynb` builds it (L1 to the HR patch, Adam), on augmented patches of the
# embedded photos; the models take turns. Images/s is the batch size over the median iteration time; its range comes
# from the quartiles.

# %%
def patches(scale:int, patch_size:int):
    "Augmented training patches of the embedded photos (the data does not change the time of an iteration)."
    return resolve_data('samples', scale, 'train', patch_size=patch_size, augment=True)

torch.manual_seed(seed)
train_ds = patches(r['scale'], r['patch_size'])
timers = {m: IterTimer() for m in r['models']}
learners = {m: Learner(build_model(m, scale=r['scale']), train_ds, loss_terms=[pixel_l1()], bs=r['bs'], lr=1e-4,
                       cbs=[timers[m]], seed=seed, device=dev) for m in r['models']}
times = interleaved({m: learner_part(learners[m], timers[m]) for m in r['models']}, r['warmup'], r['timed'], r['repeats'])
throughput = []
for m, learn in learners.items():
    s = stats(times[m])
    throughput.append(dict(model=m, scale=r['scale'], bs=r['bs'], patch_size=r['patch_size'], amp=learn.amp,
                           num_params=count_params(learn.model), step_ms=s, images_per_s=r['bs'] * 1e3 / s['median'],
                           images_per_s_iqr=[r['bs'] * 1e3 / s['q3'], r['bs'] * 1e3 / s['q1']]))
del learners
print(markdown_table(throughput, {'model': lambda t: t['model'], 'params': lambda t: f"{t['num_params']:,}",
                         'batch × LR patch': lambda t: f"{t['bs']} × {t['patch_size']}²",
                         'ms / iteration (median, IQR)': lambda t: f"{t['step_ms']['median']:.1f} ({t['step_ms']['q1']:.1f}–{t['step_ms']['q3']:.1f})",
                         'images / s (IQR)': lambda t: f"{t['images_per_s']:.1f} ({t['images_per_s_iqr'][0]:.1f}–{t['images_per_s_iqr'][1]:.1f})"}))


# %% [markdown]
# ## Overhead of the run loop
#
# Every training notebook trains through `run_method`, that is through the core `Learner` with the standard callbacks
# (validation, JSONL logs, progress, checkpoints for `resume`) and loss terms. What does that machinery cost against
# the loop one would write by hand? Per model, the same initial weights, batches of the same size from the same patch dataset (an
# iteration's cost does not depend on which patches), L1 and `torch.optim.Adam` at the same rate, float32 in both; the two loops take turns in this process (`interleaved`),
# and every iteration is timed from the batch in hand to the optimizer step done. The standard callbacks run with
# periods longer than the benchmark, so each iteration pays for their checks, not for a checkpoint (the same work
# whichever loop calls it); validation is left out, since it runs at the end of every `fit` and each block of this
# benchmark is one. The goal: srkd's loop within 2% of the bare one.

# %%
class BareLoop:
    "The hand-written loop: collate the next batch, L1, backward, Adam step; timed like `IterTimer`."
    def __init__(self, model, ds, bs:int, lr:float):
        self.model, self.ds, self.bs, self.k = model.to(dev).train(), ds, bs, 0
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
    def __call__(self, n:int) -> list:
        samples = []
        for _ in range(n):
            batch = default_collate([self.ds[(i % len(self.ds), seed + i)] for i in range(self.k, self.k + self.bs)])
            self.k += self.bs
            watch = Stopwatch(dev); watch.start()
            lr_img, hr_img = batch['lr'].to(dev), batch['hr'].to(dev)
            self.opt.zero_grad(set_to_none=True)
            torch.nn.functional.l1_loss(self.model(lr_img), hr_img).backward()
            self.opt.step()
            samples.append(watch.stop())
        return samples

never = 10**9  # callback periods beyond the benchmark: their per-iteration checks run, their work does not
loop = {}
with tempfile.TemporaryDirectory() as tmp:
    for m in r['loop_models']:
        torch.manual_seed(seed)
        net = build_model(m, scale=r['scale'])
        bare_net = copy.deepcopy(net)
        timer = IterTimer()
        learn = Learner(net, train_ds, loss_terms=[pixel_l1()], bs=r['bs'], lr=1e-4, seed=seed, device=dev, amp=False,
                        cbs=[cb for cb in standard_callbacks(Path(tmp)/m, never, never, progress_every=never)
                             if not isinstance(cb, ValidateCB)] + [timer])  # it validates at the end of every fit
        t = interleaved({'srkd': learner_part(learn, timer), 'bare': BareLoop(bare_net, train_ds, r['bs'], 1e-4)},
                        r['warmup'], r['timed'], r['repeats'])
        s, b = stats(t['srkd']), stats(t['bare'])
        per_repeat = [np.median([x for x, _ in sa]) / np.median([x for x, _ in ba]) for sa, ba in zip(t['srkd'], t['bare'])]
        loop[m] = dict(srkd_ms=s, bare_ms=b, ratio=s['median'] / b['median'], ratio_per_repeat=[float(x) for x in per_repeat])
        del learn
print(markdown_table(list(loop.items()), {'model': lambda kv: kv[0],
      'srkd loop, ms (median, IQR)': lambda kv: f"{kv[1]['srkd_ms']['median']:.2f} ({kv[1]['srkd_ms']['q1']:.2f}–{kv[1]['srkd_ms']['q3']:.2f})",
      'bare loop, ms (median, IQR)': lambda kv: f"{kv[1]['bare_ms']['median']:.2f} ({kv[1]['bare_ms']['q1']:.2f}–{kv[1]['bare_ms']['q3']:.2f})",
      'ratio': lambda kv: f"{kv[1]['ratio']:.3f}",
      'ratio per repeat (min–max)': lambda kv: f"{min(kv[1]['ratio_per_repeat']):.3f}–{max(kv[1]['ratio_per_repeat']):.3f}"}))

# %% [markdown]
# ## Cost of a distillation step
#
# A distillation step is a student step plus a teacher forward plus the KD terms. What the framework adds on top
# (feature hooks, the teacher call, casts, extra copies) should be small: the goal is
#
# $$\text{ratio} = \frac{t_c}{t_a + t_b} \le 1.10,$$
#
# with, all in the same process and interleaved:
#
# - (a) `student_step`: a training step of the student alone (FAKD's `student` method: L1 to HR);
# - (b) `teacher_forward`: the `FrozenTeacher` forward alone, on a batch of the same size, exactly as `TeacherCB` calls
#   it (inference mode, outside the learner's autocast, in `teacher_dtype`);
# - (c) a distillation step through `srkd.fakd.fakd_learner`, for three of FAKD's methods: `kd_step` (L1 to HR +
#   output KD, no taps), `at_step` (+ attention transfer on FAKD's three feature taps: the cost of the hooks with a
#   cheap term) and `fakd_step` (+ FAKD's spatial-affinity term on the same taps);
# - (d) `*_terms`: the KD terms of (c) alone, forward and backward, on detached copies of the last step's student
#   outputs and features (their weights as in (c); the L1 to HR, also in (a), excluded).
#
# The ratio counts the KD terms as overhead: a term such as FAKD's affinity, quadratic in the number of positions,
# has a cost of its own that no framework can remove. So the overhead $t_c - t_a - t_b$ is split into the terms (d)
# and the rest, $t_c - t_a - t_b - t_d$, which is what the framework adds.

# %%
methods = ('kd', 'at', 'fakd')
fp = {m: fakd_recipe(*r['fakd'], method=m, seed=seed, bs=r['distill_bs'], patch_size=r['distill_patch_size'])
      for m in ('student', *methods)}
p0, scale_d = fp['student'], r['fakd'][1]
t_name, s_name = p0.options['teacher_model'], p0.options['student']
torch.manual_seed(seed)
student, teacher = build_model(s_name, scale=scale_d), build_model(t_name, scale=scale_d)
frozen = FrozenTeacher(teacher, dtype=dtypes[teacher_dtype]).to(dev)
distill_ds = patches(scale_d, p0.patch_size)
dtimers = {m: IterTimer() for m in fp}
dlearn = {m: fakd_learner(fp[m], copy.deepcopy(student), frozen if m != 'student' else None, distill_ds,
                          cbs=[dtimers[m]], device=dev) for m in fp}
print(f"teacher {t_name} ({count_params(teacher, trainable_only=False):,} parameters), student {s_name} "
      f"({count_params(student):,}), x{scale_d}, batch {p0.bs} of {p0.patch_size}² LR patches; "
      f"taps {fakd_tap_pairs(student, teacher, fp['fakd'].options['taps'])}")
for m in methods: print(f"{m}: loss terms {[(t.name, t.weight) for t in dlearn[m].loss_terms if t.weight]}")

# %% [markdown]
# The teacher's input for (b) is one collated batch of the same patches; the time of a forward does not depend on
# the pixel values. The KD terms alone (d) take the student's SR output and features as new leaves, so their
# backward stops there instead of running through the student (which (a) already times).

# %%
batch = to_device(default_collate([distill_ds[(i % len(distill_ds), seed + i)] for i in range(p0.bs)]), dev)

def teacher_part(n): return [timed_call(lambda: frozen(batch['lr']), dev) for _ in range(n)]

def terms_part(learn:Learner, exclude:set):
    "A part that times the forward and backward of `learn`'s weighted loss terms not in `exclude`."
    terms = [t for t in learn.loss_terms if t.weight and t.name not in exclude]
    leaf = lambda t: t.detach().requires_grad_()
    def once():
        state = SimpleNamespace(preds=leaf(learn.preds), teacher_preds=learn.teacher_preds, batch=learn.batch,
                                kd_feats=[(leaf(s), t) for s, t in learn.kd_feats], modules=learn.modules)
        sum(t.weight * t.fn(state) for t in terms).backward()
    return lambda n: [timed_call(once, dev) for _ in range(n)]

student_terms = {t.name for t in dlearn['student'].loss_terms if t.weight}
parts = {'student_step': learner_part(dlearn['student'], dtimers['student']), 'teacher_forward': teacher_part}
parts |= {f'{m}_step': learner_part(dlearn[m], dtimers[m]) for m in methods}
parts |= {f'{m}_terms': terms_part(dlearn[m], student_terms) for m in methods}
dtimes = interleaved(parts, r['warmup'], r['timed'], r['repeats'])
dstats = {k: stats(v) for k, v in dtimes.items()}

# %% [markdown]
# The ratio from the medians, the same ratio in each repeat (from that repeat's medians: how stable it is), and the
# overhead split into the KD terms and the rest:

# %%
med = lambda k: dstats[k]['median']
block_med = lambda k: [float(np.median([t for t, _ in b])) for b in dtimes[k]]
ab = med('student_step') + med('teacher_forward')
distill = dict(teacher=t_name, student=s_name, scale=scale_d, bs=p0.bs, patch_size=p0.patch_size,
               teacher_dtype=str(frozen.dtype or next(teacher.parameters()).dtype), amp=dlearn['student'].amp,
               taps=fakd_tap_pairs(student, teacher, fp['fakd'].options['taps']), goal=1.10, parts=dstats,
               ratio={m: med(f'{m}_step') / ab for m in methods},
               ratio_per_repeat={m: [c / (a + b) for a, b, c in zip(block_med('student_step'), block_med('teacher_forward'),
                                                                     block_med(f'{m}_step'))] for m in methods},
               overhead_ms={m: dict(total=med(f'{m}_step') - ab, kd_terms=med(f'{m}_terms'),
                                    rest=med(f'{m}_step') - ab - med(f'{m}_terms')) for m in methods})
print(markdown_table(list(dstats.items()), {'part': lambda kv: kv[0], 'ms (median)': lambda kv: f"{kv[1]['median']:.1f}",
                                   'IQR': lambda kv: f"{kv[1]['q1']:.1f}–{kv[1]['q3']:.1f}", 'n': lambda kv: str(kv[1]['n']),
                                   'page faults (median)': lambda kv: f"{kv[1]['minor_faults']:.0f}"}))
print()
print(markdown_table(methods, {'method': str, 'ratio t_c / (t_a + t_b)': lambda m: f"{distill['ratio'][m]:.3f}",
                      'per repeat (min–max)': lambda m: f"{min(distill['ratio_per_repeat'][m]):.3f}–{max(distill['ratio_per_repeat'][m]):.3f}",
                      'goal ≤ 1.10': lambda m: 'met' if distill['ratio'][m] <= 1.10 else 'missed',
                      'overhead ms': lambda m: f"{distill['overhead_ms'][m]['total']:.1f}",
                      'of which KD terms': lambda m: f"{distill['overhead_ms'][m]['kd_terms']:.1f}",
                      'rest': lambda m: f"{distill['overhead_ms'][m]['rest']:.1f}"}))
del dlearn

# %% [markdown]
# How to read it: `kd` adds the teacher and one L1 term, so its ratio shows the cost of the teacher call itself;
# `at` adds the feature hooks with a term that costs little, so its `rest` is what taps cost; `fakd` adds the
# affinity term, whose own cost is in `of which KD terms`. A `rest` that is large while the step's page faults far
# exceed those of its parts means memory is being mapped afresh at every step: tensors of many MiB freed and
# allocated again (glibc gives blocks above its mmap threshold back to the system, and PyTorch's CPU allocator
# keeps nothing), each page then zeroed by the kernel on first touch. On a GPU, PyTorch's caching allocator reuses
# the blocks and this cost does not arise.

# %% [markdown]
# ## Memory of tiled inference
#
# `srkd.inference.tiled_forward` feeds the model windows of `tile + 2·overlap` LR pixels, so its working memory
# should depend on the tile and not on the image. Each setting runs in a **fresh process** (the script below), so
# nothing left over from another setting (allocator caches, freed but retained pages) is counted. The model and the
# image are created, and one forward on an input of the window's size sets up what the libraries keep per input
# shape (oneDNN's kernels, paid once however many tiles follow); the memory that forward
# freed is handed back to the system (glibc's `malloc_trim`); then the peak is reset and `tiled_forward` runs:
#
# - **CUDA**: `torch.cuda.max_memory_allocated` after `reset_peak_memory_stats`, minus what was allocated before
#   (weights, input): the bytes of live tensors at the worst moment, cuDNN workspaces included, the caching
#   allocator's spare blocks not.
# - **CPU**: the process's peak resident set (`VmHWM` in `/proc/self/status`, Linux), reset to the current resident
#   set by writing 5 to `/proc/self/clear_refs`, minus that resident set: every page touched at the worst moment,
#   so it also counts allocator slack and the libraries' scratch buffers (an upper bound on the tensors' bytes,
#   4 KiB pages). Linux only.
#
# Both counts include the output (`tiled_forward` writes into an HR-sized buffer on the input's device, here the
# model's, as `srkd.experiment.evaluate` does); `working` is the peak minus that buffer. Whole-image inference is
# `tiled_forward` with `tile=None`, which is what evaluation runs: its working memory also holds the model's own
# output, copied into the buffer.

# %%
PEAK_SCRIPT = r'''
import ctypes, json, re, sys, time
import torch
from srkd.inference import tiled_forward
from srkd.models import build_model

a = json.loads(sys.argv[1])
torch.set_num_threads(a['threads'])
dev = torch.device(a['device'])
cuda = dev.type == 'cuda'
def sync():
    if cuda: torch.cuda.synchronize(dev)
def status_bytes(key):
    return 1024 * int(re.search(key + r':\s+(\d+) kB', open('/proc/self/status').read()).group(1))
torch.manual_seed(0)
model = build_model(a['model'], scale=a['scale']).to(dev).eval()
x = torch.rand(1, 3, a['size'], a['size'], device=dev)
w = min(a['size'], a['tile'] + 2 * a['overlap']) if a['tile'] else a['size']
tiled_forward(model, x[..., :w, :w], a['scale'])
sync()
libc = ctypes.CDLL(None)
if not cuda and hasattr(libc, 'malloc_trim'): libc.malloc_trim(0)
if cuda:
    torch.cuda.reset_peak_memory_stats(dev)
    base = torch.cuda.memory_allocated(dev)
else:
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')
    base = status_bytes('VmRSS')
times = []
for _ in range(a['repeats']):
    t = time.perf_counter()
    y = tiled_forward(model, x, a['scale'], tile=a['tile'], overlap=a['overlap'])
    sync()
    times.append(time.perf_counter() - t)
    del y
peak = torch.cuda.max_memory_allocated(dev) if cuda else status_bytes('VmHWM')
print(json.dumps({'peak_bytes': peak - base, 'seconds': times}))
'''

def peak_memory(model:str, scale:int, size:int, tile:int|None, overlap:int, repeats:int) -> dict:
    "Peak memory (bytes above the baseline) and times of `tiled_forward` on a size×size LR image, in a fresh process."
    if dev.type == 'cpu' and not Path('/proc/self/clear_refs').exists():
        raise RuntimeError("peak CPU memory is read from /proc/self (Linux); on this system use device='cuda'")
    args = dict(model=model, scale=scale, size=size, tile=tile, overlap=overlap, repeats=repeats,
                threads=torch.get_num_threads(), device=str(dev))
    res = subprocess.run([sys.executable, '-c', PEAK_SCRIPT, json.dumps(args)], capture_output=True, text=True)
    if res.returncode: raise RuntimeError(f"peak_memory({args}) failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.splitlines()[-1])


# %%
MiB = 2**20
tiled_rows = []
for size in r['image_sizes']:
    for tile in r['tiles']:
        res = peak_memory(r['tile_model'], r['tile_scale'], size, tile, r['overlap'], r['infer_repeats'])
        output = 3 * (size * r['tile_scale'])**2 * 4
        tiled_rows.append(dict(lr_size=size, tile=tile, window=min(size, tile + 2 * r['overlap']) if tile else size,
                               peak_mib=res['peak_bytes'] / MiB, output_mib=output / MiB,
                               working_mib=(res['peak_bytes'] - output) / MiB, seconds=float(np.median(res['seconds']))))
tiled = dict(model=r['tile_model'], scale=r['tile_scale'], overlap=r['overlap'], device=str(dev),
             method='cuda max_memory_allocated' if dev.type == 'cuda' else 'peak resident set (VmHWM after clear_refs)',
             rows=tiled_rows)
print(f"{r['tile_model']} x{r['tile_scale']}, overlap {r['overlap']}, {tiled['method']}")
print(markdown_table(tiled_rows, {'LR image': lambda t: f"{t['lr_size']}²", 'tile': lambda t: str(t['tile'] or 'whole'),
                         'model input': lambda t: f"{t['window']}²", 'peak MiB': lambda t: f"{t['peak_mib']:.1f}",
                         'output MiB': lambda t: f"{t['output_mib']:.1f}", 'working MiB': lambda t: f"{t['working_mib']:.1f}",
                         'seconds': lambda t: f"{t['seconds']:.2f}"}))

# %% [markdown]
# Working memory by tile (rows) and image size (columns): with tiles, a row should stay nearly flat as the image
# grows, while whole-image inference grows with the image.

# %%
sizes = r['image_sizes']
print(markdown_table(r['tiles'], {'tile': lambda t: str(t or 'whole'),
                         **{f'{s}² MiB': (lambda t, s=s: next(f"{x['working_mib']:.1f}" for x in tiled_rows
                                                              if x['lr_size'] == s and x['tile'] == t)) for s in sizes}}))

# %% [markdown]
# ## Figure and record

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
ax = axes[0]
ax.barh([t['model'] for t in throughput], [t['images_per_s'] for t in throughput],
        xerr=np.array([[t['images_per_s'] - t['images_per_s_iqr'][0], t['images_per_s_iqr'][1] - t['images_per_s']]
                       for t in throughput]).T)
ax.invert_yaxis(); ax.set_xlabel(f"training images / s (batch {r['bs']}, {r['patch_size']}² LR)")
ax = axes[1]
names = list(dstats)
ax.barh(names, [dstats[k]['median'] for k in names],
        xerr=np.array([[dstats[k]['median'] - dstats[k]['q1'], dstats[k]['q3'] - dstats[k]['median']] for k in names]).T)
ax.axvline(ab, color='k', ls=':', lw=1, label='student step + teacher forward')
ax.axvline(1.10 * ab, color='r', ls='--', lw=1, label='goal: 1.10 x that')
ax.invert_yaxis(); ax.set_xlabel('ms (median, IQR)'); ax.legend(fontsize=7, loc='lower right')
ax = axes[2]
for s in sizes:
    rows = [t for t in tiled_rows if t['lr_size'] == s]
    ax.plot([str(t['tile'] or 'whole') for t in rows], [t['peak_mib'] for t in rows], marker='o', label=f'{s}² LR')
ax.set_yscale('log'); ax.set_xlabel('tile (LR pixels)'); ax.set_ylabel('peak MiB'); ax.legend(fontsize=7)
fig.tight_layout()
out.mkdir(parents=True, exist_ok=True)
with atomic_path(out/'bench.png') as tmp: fig.savefig(tmp, dpi=100)
plt.show()

# %% [markdown]
# Everything goes to `bench.json`: the recipe, the machine (with its load average before and after), the papermill
# command that reproduces the run, and every sample; `results` holds the headline numbers.

# %%
largest = max(sizes)
headline = {'images_per_s': {t['model']: t['images_per_s'] for t in throughput}, 'loop_overhead': {m: v['ratio'] for m, v in loop.items()},
            'distill_ratio': distill['ratio'],
            'tiled_peak_mib': {str(t['tile'] or 'whole'): t['peak_mib'] for t in tiled_rows if t['lr_size'] == largest}}
record = run_record('bench', 'nbs/bench.ipynb', params, headline, started=started, recipe=r, throughput=throughput, loop=loop,
                    distill=distill, tiled=tiled, load_average={'before': list(load_before), 'after': list(os.getloadavg())},
                    cpu_count=os.cpu_count(), allocator_env={k: v for k, v in os.environ.items() if k.startswith('MALLOC_') or k == 'LD_PRELOAD'})
atomic_write_text(out/'bench.json', json.dumps(record, indent=1) + '\n')
print(json.dumps(headline, indent=1))
print(f"load average before {load_before}, after {os.getloadavg()}; written {(out/'bench.json').resolve()}")

# %% [markdown]
# The measured figures, with the command and the machine, are in `nbs/results/bench/` (the docs' results page shows
# its README).
