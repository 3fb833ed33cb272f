# %% [markdown]
# # Train a student with FAKD
#
# > Feature-affinity distillation (srkd.fakd) and its baselines through one code path: the student alone, output KD, FAKD, AT, FitNet.
#
# - skip_exec: true

# %% [markdown]
# Run it with papermill; every parameter below can be set with `-p`:
#
# ```sh
# papermill nbs/train_fakd.ipynb out.ipynb -p out_dir runs/fakd_x2                          # CPU preset: trains its teacher first
# papermill nbs/train_fakd.ipynb out.ipynb -p method student -p out_dir runs/student_x2     # the same student, no distillation
# papermill nbs/train_fakd.ipynb out.ipynb -p method kd -p teacher runs/fakd_x2/teacher/model.safetensors -p out_dir runs/kd_x2
# papermill nbs/train_fakd.ipynb out.ipynb -p preset paper -p scale 4 -p teacher RCAN_BIX4.pt -p out_dir runs/fakd_rcan_x4
# papermill nbs/train_fakd.ipynb out.ipynb -p preset paper -p scale 3 -p taps 2,3 -p feature_loss '10*SA+1*AT'
# torchrun --nproc_per_node 4 $(which srkd_run) nbs/train_fakd.ipynb -p preset paper -p scale 2 -p out_dir runs/fakd_rcan_x2
# ```
#
# The run writes `metrics.json` (student, teacher and bicubic scores on the same held-out images, the affinity
# distance to the teacher, parameters and multi-adds of both networks), `per_image.csv`, `student.safetensors`,
# `crops.png`, `curves.png` and its logs into `out_dir`, and resumes from `out_dir/state.pt` when it is started again. Without a
# `teacher` the `cpu` and `smoke` presets train theirs with `nbs/train_sr.ipynb` into `out_dir/teacher` (reused
# when it is already there with the same recipe) and copy it to `out_dir/teacher.safetensors`; the `paper` presets
# load the official `RCAN_BIX{scale}.pt` from `data/checkpoints/` unless `teacher` names the file.

# %% tags=["parameters"]
scale: int = 2  # upscaling factor: 2, 3, 4 or 8
preset: str = 'cpu'  # recipe in srkd.fakd.FAKD_PRESETS: smoke (seconds), cpu (minutes) or paper (RCAN 10x20 to 10x6, DIV2K)
method: str = 'fakd'  # fakd, student (no teacher terms), kd (output KD only), at or fitnet: registered by srkd.fakd (FAKD_METHODS)
alpha: float = None  # weight of L1(S, T); L1(S, HR) gets 1 - alpha; None means the method's (0.5, student 0)
feature_loss: str = None  # feature terms weight*type joined by +, e.g. 10*SA+1*AT; '' for none; None means the method's
taps: str = None  # comma-separated feature indices, 0 head, 1 and 2 in the body, 3 after the long skip, e.g. 1,2,3; None means the preset's
teacher: str = None  # teacher weights (.pt, .pth, .safetensors); None means the preset's (paper: data/checkpoints/RCAN_BIX{scale}.pt; cpu and smoke: trained into out_dir/teacher)
data: str = None  # training data: samples, a dataset under data/ (DIV2K...) or a folder of HR images; None means the preset's
eval_data: str = None  # comma-separated evaluation sets; None means the preset's (the held-out part of data when data is set)
iters: int = None  # training iterations; None means the preset's
bs: int = None  # batch size (all GPUs together); None means the preset's
patch_size: int = None  # LR patch size; None means the preset's
lr: float = None  # learning rate; None means the preset's
tile: int = None  # evaluate large images in LR tiles of this size; None means whole images
seed: int = None  # seed of the student's initial weights and of the data order; None means the preset's (paper 100)
device: str = 'auto'  # auto, cpu, cuda, cuda:1 or mps
amp: bool = False  # bf16 autocast of the forward passes (CUDA or CPU); False trains in float32, as the official code does
out_dir: str = 'runs/train_fakd'  # folder for the run's files
resume: bool = True  # continue from out_dir/state.pt when it exists

# %% [markdown]
# Every compared method is registered by the FAKD chapter (`10_fakd.ipynb`) on the core and trains through one code
# path, `srkd.fakd.train_fakd`: the small presets' teacher first when `teacher` is not given (`nbs/train_sr.ipynb`, into
# `out_dir/teacher`, reused when it was trained with the same parameters), then the student, initialised from `seed`,
# with the method's loss terms and a frozen teacher tapped at `taps`. Its affinity distance to the teacher is measured
# on fixed held-out patches before and after training. `srkd.runs.run_method` prints the recipe, scores student,
# teacher and MATLAB bicubic on the same whole held-out images (Y PSNR/SSIM, `crop_border = scale`, BasicSR) and
# writes the record and the figures.

# %%
from srkd.fakd import FAKD_METHODS
from srkd.methods import pick
from srkd.runs import notebook_parameters, run_method

pick(FAKD_METHODS, method, 'method')  # this notebook runs the FAKD family; nbs/train.ipynb runs any method

run, record = run_method(method, notebook_parameters('train_fakd.ipynb', globals()), 'nbs/train_fakd.ipynb')
