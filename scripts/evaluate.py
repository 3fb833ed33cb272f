# %% [markdown]
# # Evaluate a model
#
# > PSNR/SSIM of a checkpoint (or of bicubic) on any test set, under the degradation its training protocol tests with, whole images or tiled.
#
# - skip_exec: true

# %% [markdown]
# Run it from the repository root with papermill and `--cwd nbs`, as the Makefile does. A relative `checkpoint` is
# looked for from `nbs/`, then from the repository root (like `data`); give `out_dir` as an absolute path to keep the
# results beside the output notebook (papermill needs that notebook's folder to exist):
#
# ```sh
# mkdir -p runs/eval_demo runs/eval_rcan runs/bicubic_x3
# papermill nbs/evaluate.ipynb runs/eval_demo/evaluate.ipynb --cwd nbs -p checkpoint runs/demo/student.safetensors -p out_dir $PWD/runs/eval_demo
# papermill nbs/evaluate.ipynb runs/eval_rcan/evaluate.ipynb --cwd nbs -p checkpoint RCAN_BIX4.pt -p model rcan -p scale 4 -p data Set5,Set14,B100,Urban100 -p tile 128 -p out_dir $PWD/runs/eval_rcan
# papermill nbs/evaluate.ipynb runs/bicubic_x3/evaluate.ipynb --cwd nbs -p scale 3 -p data Set5 -p out_dir $PWD/runs/bicubic_x3   # no checkpoint: bicubic
# ```
#
# A checkpoint written by srkd (`.safetensors`) carries its architecture, scale and the method that trained it; an
# official file (BasicSR `.pth`, the original RCAN or EDSR-PyTorch `.pt`) needs the architecture preset as `model`
# and the `scale`. Scores follow BasicSR: SR rounded to 8 bits, PSNR/SSIM on the Y channel with `crop_border = scale`,
# and RGB PSNR beside them. LPIPS is added when its weights are given (`lpips_weights`, a folder holding torchvision's
# `alexnet-owt-7be5be79.pth` and the `lpips` package's `alex.pth`, or `vgg16-397923af.pth` and `vgg.pth` with
# `lpips_net vgg`; see the LPIPS chapter), NIQE with `-p niqe True`.
#
# **The degradation.** A model is scored the way its training protocol tests: a blind-SR checkpoint (KDSR) on its
# setting's test degradations, anything else on MATLAB-bicubic LR. `degradation` overrides it:
#
# | `degradation` | test LR images | for |
# |---|---|---|
# | `bicubic` | MATLAB bicubic downscaling | classic SR (EDSR, RCAN, SwinIR; FAKD and DUKD students) |
# | `iso` | the Gaussian8 blur widths of the scale, then bicubic (one test set per width) | KDSR, isotropic setting |
# | `aniso` | anisotropic Gaussian kernels × noise levels | KDSR, anisotropic setting |
# | `gan` | two fixed draws (seeds 0 and 1) of Real-ESRGAN's pipeline, as KDSR-GAN tests | KDSR-GAN |
# | `realesrgan` | one fixed draw of Real-ESRGAN's pipeline per image, seed `seed` | any real-world model |
#
# Sets of real LR photos (RealSR, DRealSR) are scored as they are, whatever the degradation.

# %% tags=["parameters"]
checkpoint: str = None  # .safetensors from srkd, or an official .pth/.pt (then give model and scale); None evaluates bicubic
model: str = None  # architecture preset (srkd.models.MODEL_PRESETS) for official checkpoints
scale: int = None  # upscaling factor; None: the srkd checkpoint's (needed for an official file or bicubic)
degradation: str = None  # bicubic, iso, aniso, gan or realesrgan (see above); None: the checkpoint's training protocol
seed: int = 0  # the Real-ESRGAN draw when degradation is realesrgan
data: str = 'samples'  # comma-separated test sets: samples, Set5, Set14, B100, Urban100, Manga109, DIV2K, RealSR, a folder
lpips_weights: str = None  # folder with LPIPS's two weight files (srkd.iqa); None: $SRKD_LPIPS_WEIGHTS if set, else no LPIPS
lpips_net: str = 'alex'  # LPIPS trunk: alex or vgg (KDSR-GAN's tables use vgg)
niqe: bool = False  # NIQE of the SR images too (no reference; Y channel, border = scale)
tile: int = None  # LR tile size for large images; None means whole images
overlap: int = 16  # LR pixels of context around each tile
device: str = 'auto'  # auto, cpu, cuda, cuda:1 or mps
out_dir: str = 'runs/evaluate'  # folder for metrics.json, per_image.csv and crops.png

# %%
import os, time
from pathlib import Path

import matplotlib.pyplot as plt

from srkd.data import data_root, eval_data
from srkd.degraded import RealTestDegradation, degraded_eval_sets
from srkd.experiment import resolve_device, evaluate, minimal_tracebacks
from srkd.iqa import lpips_model
from srkd.kdsr import KDSR_SETTINGS, kdsr_eval_sets, setting_cases
from srkd.compare import Comparison, show_comparison
from srkd.records import crops_figure, run_record, save_run
from srkd.checkpoints import load_sr_model

# %%
minimal_tracebacks()  # a wrong parameter reads as one line, not a traceback
started = time.time()
params = dict(checkpoint=checkpoint, model=model, scale=scale, degradation=degradation, seed=seed, data=data,
              lpips_weights=lpips_weights, lpips_net=lpips_net, niqe=niqe, tile=tile, overlap=overlap, device=device, out_dir=out_dir)
dev = resolve_device(device)
if lpips_weights is not None or os.environ.get('SRKD_LPIPS_WEIGHTS'):  # a missing file stops here, before any SR
    lpips = lpips_model(lpips_net, data_root(lpips_weights) if lpips_weights else None, dev)
else: lpips = None

# %% [markdown]
# The model. An srkd checkpoint gives the scale (a different `scale` is refused, before anything is evaluated) and the
# method that trained it; an official file needs both `model` and `scale`.

# %%
method = None
if checkpoint is not None:
    checkpoint = str(data_root(checkpoint))  # a relative path: from here (nbs/), else from the repository root
    if not Path(checkpoint).is_file(): raise FileNotFoundError(f"checkpoint={checkpoint!r} is not a file (looked from nbs/ and the repository root)")
if checkpoint is None:
    if scale is None: raise ValueError("scale=None: bicubic needs the scale (-p scale 2, 3 or 4)")
    net, label = None, 'bicubic'
else:  # an srkd file names its architecture and scale; an official one needs -p model and -p scale
    net, scale, meta = load_sr_model(checkpoint, model, scale, dev)
    label, method = (meta['config']['arch'], meta.get('method')) if meta else (model, None)
print(f"{label} x{scale} on {dev}" + (f", trained by srkd's {method!r} method" if method else ''))

# %% [markdown]
# The test sets, degraded as the protocol says: `method` is the srkd method that trained the checkpoint (from its
# metadata), so a KDSR student is scored on its setting's degradations without being told.

# %%
PROTOCOLS = {m: s for s, m in KDSR_SETTINGS.items()}  # srkd method -> its test degradation; every other method: bicubic
DEGRADATIONS = ('bicubic', 'iso', 'aniso', 'gan', 'realesrgan')
degradation = degradation or PROTOCOLS.get(method, 'bicubic')
if degradation not in DEGRADATIONS: raise ValueError(f"degradation={degradation!r}; expected one of {', '.join(DEGRADATIONS)}")
if degradation == 'bicubic': tests = eval_data(data, scale)
elif degradation == 'realesrgan': tests = degraded_eval_sets(data, scale, {f'Real-ESRGAN {seed}': RealTestDegradation(seed)})
else: tests = kdsr_eval_sets(data, scale, setting_cases(degradation, scale))
params.update(scale=scale, degradation=degradation)
print(f"degradation {degradation}: {', '.join(tests)}")

# %%
results, rows = evaluate(net, tests, scale, dev, tile=tile, overlap=overlap, lpips=lpips, niqe=niqe)
for name, r in results.items():
    extra = (f"  LPIPS {r['lpips']:.4f}" if 'lpips' in r else '') + (f"  NIQE {r['niqe']:.4f}" if 'niqe' in r else '')
    print(f"{name:>10}: Y-PSNR {r['psnr_y']:.3f} dB  Y-SSIM {r['ssim_y']:.4f}  RGB-PSNR {r['psnr_rgb']:.3f} dB{extra}  ({r['n_images']} images)")

# %%
out = Path(out_dir)
save_run(out, run_record('evaluate', 'nbs/evaluate.ipynb', params, results, net, started, label=label, trained_by=method), rows)
first = next(iter(tests))
crops_figure(net, tests[first], scale, out/'crops.png', device=dev, label=label, title=first, tile=tile, overlap=overlap)
plt.show()
print(f"Y-PSNR / Y-SSIM of whole images (Y channel, {scale}-pixel border cropped, SR rounded to 8 bits), degradation {degradation}"
      + (f"; LPIPS ({lpips_net}, v0.1, RGB, whole image; lower is better)" if lpips is not None else '')
      + (f"; NIQE (Y, {scale}-pixel border; lower is better)" if niqe else ''))
print(f'results written to {out.resolve()}: metrics.json, per_image.csv, crops.png')

# %% [markdown]
# Where the model wins or loses, region by region: the first test set's images in every view (LR, bicubic, the model, HR), each crop with its own scores. In JupyterLab the widget below the figure picks the image, the region and the views, and wipes between two of them.

# %%
show_comparison(Comparison(tests[first], scale, {label: net} if net is not None else {}, dev, lpips, tile=tile, overlap=overlap));
