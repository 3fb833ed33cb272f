# %% [markdown]
# # Train a student with IBSD
#
# > Information-bottleneck self-distillation (srkd.ibsd): L1, a CLUB-style MI bound between adjacent feature nodes with its estimators stepped before every student step, and a wavelet high-frequency loss against a progressive soft target; with both weights 0, the student under L1 alone through the same code path.
#
# - skip_exec: true

# %% [markdown]
# Run it with papermill; every parameter below can be set with `-p`:
#
# ```sh
# papermill nbs/train_ibsd.ipynb out.ipynb -p out_dir runs/ibsd_x2                          # CPU preset: imdn_tiny at x2 on the embedded photos
# papermill nbs/train_ibsd.ipynb out.ipynb -p lambda_mi 0 -p lambda_hf 0 -p out_dir runs/l1_x2    # the same student under L1 alone
# papermill nbs/train_ibsd.ipynb out.ipynb -p preset paper -p scale 4 -p out_dir runs/ibsd_imdn_x4   # DRealSR x4, IMDN
# papermill nbs/train_ibsd.ipynb out.ipynb -p preset paper -p scale 4 -p student rfdn -p out_dir runs/ibsd_rfdn_x4
# ```
#
# The run writes `metrics.json` (the student and bicubic under srkd's standard protocol; IBSD's own protocol as
# `ibsd_protocol`; the post-hoc MI of the trained student on held-out patches when `posthoc_steps` > 0; every
# setting the released code does not give under `assumptions`), `per_image.csv`, `student.safetensors` (the last
# iteration), `crops.png`, `curves.png` and its logs into `out_dir`, and resumes from `out_dir/state.pt`.

# %% tags=["parameters"]
scale: int = 2  # upscaling factor: 2, 3 or 4 (the paper: 4)
preset: str = 'cpu'  # recipe in srkd.ibsd.IBSD_PRESETS: smoke (seconds), cpu (minutes, imdn_tiny) or paper (the options files, DRealSR)
student: str = None  # imdn, rfdn (as shipped: B4 three times), rfdn_intended, imdn_tiny or rfdn_tiny; None means the preset's
lambda_mi: float = None  # weight of the MI bound (sum of the three pairs), 0 for none; None means the preset's (assumed: 3e-6 paper, 1e-4 cpu)
lambda_hf: float = None  # weight of the wavelet high-frequency loss, 0 for none; None means the preset's (assumed: 0.5)
soft_target: str = None  # snapshot (the student of the last snapshot), ema, self (the gradient of hr) or hr; None means snapshot
alpha_max: float = None  # final weight of the earlier prediction in the soft target (linear ramp); None means 0.8
snapshot_every: int = None  # iterations between snapshots of the soft-target student; None means the preset's (paper: one epoch)
target_ema: float = None  # decay of the EMA target (with soft_target ema); None means 0.999
estimator_lr: float = None  # learning rate of the MI estimators' Adam; None means 2e-4
student_init: str = None  # weights to start from (released IBSD .pth or srkd .safetensors, strict); None means random
posthoc_steps: int = None  # Adam steps of the fresh estimators of the post-hoc MI, 0 for none; None means the preset's
test_psize: int = None  # IBSD protocol tile side (LR pixels); None means the preset's (paper 256)
test_overlap: int = None  # IBSD protocol tile context; None means the preset's (paper 64)
data: str = None  # training data: samples, DRealSR, RealSR, another dataset under data/ or a folder; None means the preset's
eval_data: str = None  # comma-separated evaluation sets; None means the preset's (the held-out part of data when data is set)
iters: int = None  # training iterations; None means the preset's
bs: int = None  # batch size (all GPUs together; at least 2 per GPU with lambda_mi > 0); None means the preset's
patch_size: int = None  # LR patch size; None means the preset's
lr: float = None  # the student's learning rate; None means the preset's
tile: int = None  # srkd's standard evaluation in LR tiles of this size; None means whole images
seed: int = None  # seed of the student's weights and the data order; None means the preset's
device: str = 'auto'  # auto, cpu, cuda, cuda:1 or mps
amp: bool = False  # bf16 autocast of the forward passes; False trains in float32, as the official code does
out_dir: str = 'runs/train_ibsd'  # folder for the run's files
resume: bool = True  # continue from out_dir/state.pt when it exists

# %% [markdown]
# The method is registered by the IBSD chapter (`14_ibsd.ipynb`) on the core and trains through
# `srkd.ibsd.train_ibsd`; `srkd.runs.run_method` resolves the recipe, prints it, scores the student and MATLAB
# bicubic on the same whole held-out images (Y PSNR/SSIM, `crop_border = scale`, BasicSR), adds IBSD's protocol and
# writes the record and the figures.

# %%
from srkd.runs import notebook_parameters, run_method

# %%
run, record = run_method('ibsd', notebook_parameters('train_ibsd.ipynb', globals()), 'nbs/train_ibsd.ipynb')
