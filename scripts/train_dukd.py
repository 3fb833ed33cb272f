# %% [markdown]
# # Train a student with DUKD
#
# > Data upcycling distillation (srkd.dukd): zoom-in tiles of the HR patch labelled by the teacher, zoom-out inputs supervised by the LR patch, label-consistency augmentation, two updates per iteration; with the upcycling off, output KD and the student alone through the same code path.
#
# - skip_exec: true

# %% [markdown]
# Run it with papermill; every parameter below can be set with `-p`:
#
# ```sh
# papermill nbs/train_dukd.ipynb out.ipynb -p out_dir runs/dukd_x2                     # CPU preset at x2: trains its teacher first
# papermill nbs/train_dukd.ipynb out.ipynb -p n_gt_sub 0 -p zoom_out False -p out_dir runs/kd_x2 -p teacher runs/dukd_x2/teacher.safetensors
# papermill nbs/train_dukd.ipynb out.ipynb -p preset paper -p scale 2 -p out_dir runs/dukd_edsr_x2   # official EDSR x2 config
# papermill nbs/train_dukd.ipynb out.ipynb -p preset paper -p scale 4 -p out_dir runs/dukd_edsr_x4   # starts from runs/dukd_edsr_x2
# papermill nbs/train_dukd.ipynb out.ipynb -p preset paper -p scale 3 -p pair rcan -p out_dir runs/dukd_rcan_x3
# torchrun --nproc_per_node 4 $(which srkd_run) nbs/train_dukd.ipynb -p preset paper -p pair swinir -p scale 4
# ```
#
# The run writes `metrics.json` (student, teacher and bicubic scores on the same held-out images, DUKD's own
# signals: colour-inversion and rotation consistency, agreement with the teacher on held-out HR tiles and LR
# patches; both networks' sizes), `per_image.csv`, `student.safetensors` (the EMA weights), `crops.png`,
# `curves.png` and its logs into `out_dir`, and resumes from `out_dir/state.pt` when it is started again. Without a
# `teacher` the `cpu` and `smoke` presets train theirs with `nbs/train_sr.ipynb` into `out_dir/teacher` (reused
# while its recipe stays) and copy it to `out_dir/teacher.safetensors`; the `paper` preset loads the pair's official
# weights from `data/checkpoints/` unless `teacher` names the file.

# %% tags=["parameters"]
scale: int = 2  # upscaling factor: 2, 3 or 4
preset: str = 'cpu'  # recipe in srkd.dukd.DUKD_PRESETS: smoke (seconds), cpu (minutes, the edsr_tiny pair) or paper (the shipped configs)
pair: str = None  # teacher and student: edsr, rcan, swinir (official pairs) or edsr_tiny (CPU); None means the preset's
n_gt_sub: int = None  # zoom-in tiles of the HR patch per iteration, 0 for none; None means the shipped config of (pair, scale)
zoom_out: bool = None  # add the zoom-out terms (the LR patch downscaled again, supervised by the LR patch and the teacher); None means the config's
prob: float = None  # probability of each label-consistency operation (invert, flip H, flip W, transpose), 0 for none; None means the config's
w_pix: float = None  # weight of the pixel terms (real pair and zoom-out); None means the config's
w_kd: float = None  # weight of the teacher terms (real pair, zoom-in, zoom-out), 0 trains the student alone; None means the config's
inverse: str = None  # correct (undo the operations in reverse order) or repo (the official code's same-order re-application); None means correct
double_step: bool = None  # True: step 2 re-applies step 1's gradient (no zero_grad between, as the official code); False: zero_grad first; None means True
teacher_train_mode: bool = None  # run the teacher in train mode (SwinIR's DropPath active, as the official code); None means False (eval)
teacher: str = None  # teacher weights (.pth, .pt, .safetensors); None means the preset's (paper: data/checkpoints/<official file>; cpu, smoke: trained into out_dir/teacher)
student_init: str = None  # student weights to start from (non-strict), '' for random; None means the config's (paper EDSR x4: runs/dukd_edsr_x2/student.safetensors)
data: str = None  # training data: samples, a dataset under data/ (DIV2K...) or a folder of HR images; None means the preset's
eval_data: str = None  # comma-separated evaluation sets; None means the preset's (the held-out part of data when data is set)
iters: int = None  # training iterations; None means the preset's
bs: int = None  # batch size (all GPUs together); None means the preset's
patch_size: int = None  # LR patch size; None means the preset's (a multiple of the scale when zoom_out is on)
lr: float = None  # learning rate; None means the preset's
tile: int = None  # evaluate large images in LR tiles of this size; None means whole images
seed: int = None  # seed of the student's initial weights, the data order and the upcycling draws; None means the preset's (paper 10)
device: str = 'auto'  # auto, cpu, cuda, cuda:1 or mps
amp: bool = False  # bf16 autocast of the forward passes (CUDA or CPU); False trains in float32, as the official code does
out_dir: str = 'runs/train_dukd'  # folder for the run's files
resume: bool = True  # continue from out_dir/state.pt when it exists

# %% [markdown]
# The method is registered by the DUKD chapter (`12_dukd.ipynb`) on the core and trains through
# `srkd.dukd.train_dukd`: the small presets' teacher first when `teacher` is not given, then the student from
# `seed` with the real pair's terms and DUKD's second update each iteration, the EMA of its weights validated and
# saved. `srkd.runs.run_method` resolves the recipe (unset upcycling options take the shipped config of the pair
# and scale), prints it, scores student, teacher and MATLAB bicubic on the same whole held-out images (Y PSNR/SSIM,
# `crop_border = scale`, BasicSR) and writes the record and the figures.

# %%
from srkd.runs import notebook_parameters, run_method

# %%
run, record = run_method('dukd', notebook_parameters('train_dukd.ipynb', globals()), 'nbs/train_dukd.ipynb')
