# %% [markdown]
# # Train any method
#
# > Every registered method through one notebook: `-p method NAME`, the same presets, data, evaluation and record, so that methods can be compared head-to-head.
#
# - skip_exec: true

# %% [markdown]
# Run it with papermill; every parameter below can be set with `-p`, and any other setting of the method's recipe
# (its stages' `<stage>_iters`, `<stage>_lr`, its options) by name in `settings`:
#
# ```sh
# papermill nbs/train.ipynb out.ipynb -p method scratch -p out_dir runs/scratch_x2
# papermill nbs/train.ipynb out.ipynb -p method fakd -p preset smoke -p out_dir runs/fakd_smoke
# papermill nbs/train.ipynb out.ipynb -p method kdsr_aniso -p scale 4 -y 'settings: {teacher_iters: 500, noise: 10}'
# ```
#
# The registered methods, what each trains and the files it writes are in the chapters that register them
# (`06b_runs`: `scratch`; `10_fakd`: `fakd`, `student`, `kd`, `at`, `fitnet`; `11_kdsr`: `kdsr`, `kdsr_aniso`,
# `kdsr_gan`); `train_sr.ipynb`, `train_fakd.ipynb` and `train_kdsr.ipynb` run the same methods with their papers'
# parameter names.

# %% tags=["parameters"]
method: str = 'scratch'  # a registered method (srkd.methods.METHODS): scratch, fakd, student, kd, at, fitnet, kdsr, kdsr_aniso, kdsr_gan, dukd
preset: str = 'cpu'  # smoke (seconds), cpu (minutes on 2 cores) or paper (the paper's configuration)
scale: int = 2  # upscaling factor
data: str = None  # training data: samples, a dataset under data/ or a folder of HR images; None means the preset's
eval_data: str = None  # comma-separated evaluation sets; None means the preset's (the held-out part of data when data is set)
iters: int = None  # iterations of the last stage (the one that trains the delivered network); None means the preset's
bs: int = None  # batch size (all GPUs together); None means the preset's
patch_size: int = None  # LR patch size; None means the preset's
lr: float = None  # learning rate of the last stage; None means the preset's
seed: int = None  # seed of the initial weights and of the data order; None means the preset's
settings: dict = None  # any other recipe setting by name, e.g. {'teacher_iters': 100, 'alpha': 0.3} (papermill -y)
tile: int = None  # evaluate large images in LR tiles of this size; None means whole images
device: str = 'auto'  # auto, cpu, cuda, cuda:1 or mps
amp: bool = False  # bf16 autocast of the forward passes; False trains in float32, as the official codes do
num_workers: int = 0  # DataLoader worker processes
out_dir: str = None  # folder for the run's files; None means runs/<method>
resume: bool = True  # continue from the training state in out_dir when it exists

# %%
from srkd.runs import notebook_parameters, run_method

run, record = run_method(method, notebook_parameters('train.ipynb', globals()), 'nbs/train.ipynb')
