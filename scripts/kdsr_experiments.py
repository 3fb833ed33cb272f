# %% [markdown]
# # KDSR experiments at CPU scale
#
# > What distillation and the IDR conditioning do in a few minutes of CPU training: held-out KL, distilled against undistilled students, an oracle degradation code, and a plain non-blind network of equal size.
#
# - skip_exec: true

# %% [markdown]
# ```sh
# papermill nbs/kdsr_experiments.ipynb out.ipynb -p scale 4 -p out_dir runs/kdsr_experiments_x4
# ```
#
# The chapter `11_kdsr.ipynb` ("Results at CPU scale") discusses the outcome. The spec (§8) found that a
# degradation-aware IDR does not emerge from L1 in minutes on a CPU, so this notebook measures what can be measured at
# this scale, every model trained on the same data, degradations and number of iterations:
#
# 1. **distillation**: the student of `train_kdsr.ipynb` (L1 + KL) against an *undistilled* student (same teacher, same
#    start, `-p kd_weight 0`: L1 only), and the untrained student, by the held-out KL and $|D'_S - D'_T|$;
# 2. **conditioning**: KDSR's $G$ given the *true* degradation as its code (oracle) against the same $G$ with one learned
#    code, and the oracle model given a wrong code;
# 3. **one table** of PSNR/SSIM per test degradation: bicubic, a plain non-blind EDSR of the student's size, the
#    teacher (which sees HR), both students, and the conditioned models.
#
# The two `train_kdsr.ipynb` runs go to `out_dir/distilled` and `out_dir/undistilled` (reused when they already hold
# a result with the same parameters); the rest writes `metrics.json`, `per_image.csv` and `psnr_by_degradation.png`.

# %% tags=["parameters"]
scale: int = 4  # upscaling factor: 2, 3 or 4
setting: str = 'iso'  # iso or aniso
preset: str = 'cpu'  # recipe in srkd.kdsr.KDSR_RECIPES: smoke or cpu
seed: int = 0  # seed of every run
device: str = 'auto'  # auto, cpu or cuda
out_dir: str = 'runs/kdsr_experiments'  # folder for the runs and the results

# %%
import json, time
from pathlib import Path

import numpy as np
import torch
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from srkd.kdsr import (KDSR_RECIPES, CodeConditionedSR, kdsr_degradation_cb, kdsr_eval_sets, setting_cases,
                       kdsr_learner, student_from_teacher, kd_probe_set, kd_gap, matched_edsr, evaluate_coded, case_code)
from srkd.methods import pick
from srkd.data import hr_train_data
from srkd.experiment import resolve_device, evaluate, train_with_notebook
from srkd.records import results_table, run_record, save_run
from srkd.checkpoints import load_model
from srkd.inference import count_params
from srkd.learner import set_seed, LogCB, ProgressCB, CheckpointCB

started = time.time()
params = dict(scale=scale, setting=setting, preset=preset, seed=seed, device=device, out_dir=out_dir)
r = pick(pick(KDSR_RECIPES, setting, 'setting'), preset)
if setting == 'gan': raise ValueError("setting='gan': these experiments use the classic degradations; choose iso or aniso")
dev, out = resolve_device(device), Path(out_dir)
iters = r.stage('teacher').iters + r.stage('student').iters  # the training the distilled student's G has had
print(f'KDSR experiments, {setting} x{scale}, {preset} recipe; baselines train {iters} iterations')

# %% [markdown]
# ## The two students
#
# `train_kdsr.ipynb` twice: the distilled student, and the undistilled one from the same teacher file (`kd_weight 0`:
# the same run without the KL term).

# %%
run = dict(scale=scale, setting=setting, preset=preset, seed=seed, device=device)
distilled = train_with_notebook(out/'distilled', 'train_kdsr.ipynb', weights='student.safetensors', **run).parent
undistilled = train_with_notebook(out/'undistilled', 'train_kdsr.ipynb', weights='student.safetensors', kd_weight=0.,
                                  teacher=str(distilled/'teacher.safetensors'), **run).parent
runs = {name: json.loads((d/'metrics.json').read_text()) for name, d in (('distilled', distilled), ('undistilled', undistilled))}
teacher = load_model(distilled/'teacher.safetensors').to(dev)
students = {name: load_model(d/'student.safetensors').to(dev) for name, d in (('distilled', distilled), ('undistilled', undistilled))}

# %% [markdown]
# ## Distillation on held-out patches
#
# 64 crops of the validation photos, each degraded with its own degradation from the training range: the KD loss
# $\mathrm{KL}(p_T\,\|\,p_S)$ and the mean $|D'_S - D'_T|$ of the untrained student (the teacher's $G$, a fresh
# estimator, seeded as in the runs), the undistilled and the distilled student.

# %%
set_seed(seed + 1)
untrained = student_from_teacher(teacher).to(dev)
probe = kd_probe_set(r.options['valid_data'], scale, setting, n=64, patch_size=r.patch(scale), noise=r.options['noise'], seed=seed)
gaps = {'untrained': kd_gap(untrained, teacher, probe, r.options['temperature']),
        **{name: kd_gap(m, teacher, probe, r.options['temperature']) for name, m in students.items()}}
for name, g in gaps.items(): print(f"{name:12} KL {g['kl']:.5f}   |D'_S - D'_T| {g['d_prime_l1']:.5f}")
print(f"KL falls {gaps['untrained']['kl'] / gaps['distilled']['kl']:.0f}x with distillation; the distilled student's "
      f"|D'_S - D'_T| is {gaps['distilled']['d_prime_l1'] / gaps['undistilled']['d_prime_l1']:.2f} of the undistilled one's")

# %% [markdown]
# ## Baselines trained here
#
# Each for the same number of iterations as the distilled student's $G$ (stage 1 + stage 2), with the teacher's
# recipe (L1, Adam, its learning rate and step), on the same batch-time degradations:
#
# - **plain EDSR**: the core's EDSR, sized to the student's parameter count, non-blind;
# - **oracle code**: KDSR's $G$ (the student's size) whose IDR is computed from the true degradation parameters;
# - **constant code**: the same $G$ with one learned IDR for every input.

# %%
train_ds = hr_train_data(r.data, scale, r.patch(scale))
cases = setting_cases(setting, scale, r.options['test_cases'])
deg = kdsr_degradation_cb(setting, scale, r).degradation
code_dim = case_code(cases[0], deg).shape[1]
cfg = students['distilled'].config
baselines = {'plain EDSR': (lambda: matched_edsr(count_params(students['distilled']), scale), ('lr',)),
             'oracle code': (lambda: CodeConditionedSR(scale, cfg['n_feats'], cfg['n_blocks'], code_dim), ('lr', 'code')),
             'constant code': (lambda: CodeConditionedSR(scale, cfg['n_feats'], cfg['n_blocks'], code_dim, constant=True),
                               ('lr', 'code'))}
trained = {}
for i, (name, (make, inputs)) in enumerate(baselines.items()):
    set_seed(seed + 10 + i)
    folder = out/name.replace(' ', '_')
    learn = kdsr_learner('plain', make(), r, train_ds, kdsr_degradation_cb(setting, scale, r, code='code' in inputs),
                         inputs=inputs, seed=seed, device=dev,
                         cbs=[LogCB(folder), ProgressCB(200), CheckpointCB(folder/'state.pt', r.checkpoint_every)])
    learn.fit(iters, resume=True)
    trained[name] = learn.model
    print(f'{name}: {count_params(learn.model):,} parameters, {learn.iter} iterations')

# %% [markdown]
# ## Evaluation
#
# The validation photos under each test degradation, as in `train_kdsr.ipynb`; the students' and the teacher's numbers
# are the runs' own.

# %%
tests = kdsr_eval_sets(r.eval_data, scale, cases)
columns = {'bicubic': runs['distilled']['bicubic'], 'teacher (sees HR)': runs['distilled']['teacher'],
           'student, undistilled': runs['undistilled']['results'], 'student, distilled': runs['distilled']['results']}
rows = []
for name in ('plain EDSR',):
    columns[name], r_rows = evaluate(trained[name], tests, scale, dev); rows += [{'model': name, **x} for x in r_rows]
for name, wrong in (('oracle code', False), ('constant code', False), ('oracle code', True)):
    label = f'{name}, wrong code' if wrong else name
    columns[label], r_rows = evaluate_coded(trained[name], r.eval_data, scale, cases, deg, wrong=wrong, device=dev)
    rows += [{'model': label, **x} for x in r_rows]
display(Markdown(results_table(columns)))


# %%
def mean_psnr(res): return float(np.mean([v['psnr_y'] for v in res.values()]))
conditioning = {'oracle_gain_db': mean_psnr(columns['oracle code']) - mean_psnr(columns['constant code']),
                'wrong_code_drop_db': mean_psnr(columns['oracle code']) - mean_psnr(columns['oracle code, wrong code'])}
print(f"oracle code vs constant code: {conditioning['oracle_gain_db']:+.3f} dB; wrong code costs the oracle model "
      f"{conditioning['wrong_code_drop_db']:.3f} dB")
saved = save_run(out, run_record('kdsr_experiments', 'nbs/kdsr_experiments.ipynb', params, runs['distilled']['results'],
                         students['distilled'], started, recipe=r.to_dict(), setting=setting, columns=columns, distillation=gaps,
                         conditioning=conditioning, baseline_iters=iters,
                         baseline_params={n: count_params(m) for n, m in trained.items()},
                         runs={n: str(d) for n, d in (('distilled', distilled), ('undistilled', undistilled))}), rows)

# %%
fig, ax = plt.subplots(figsize=(8, 3.5))
for name, res in columns.items():
    ax.plot(range(len(res)), [v['psnr_y'] for v in res.values()], marker='o', label=name)
ax.set_xticks(range(len(cases)), [n.split(' ', 1)[1] for n in columns['bicubic']], fontsize=8)
ax.set_ylabel('Y-PSNR (dB)'); ax.legend(fontsize=7, ncol=2); ax.set_title(f'{setting} x{scale}, {preset} recipe', fontsize=9)
fig.tight_layout()
fig.savefig(out/'psnr_by_degradation.png', dpi=100)
plt.show()
