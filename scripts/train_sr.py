# %% [markdown]
# # Train an SR model
#
# > One model, no distillation: the teachers the paper chapters need, and every "student from scratch" baseline.
#
# - skip_exec: true

# %% [markdown]
# Run it with papermill; every parameter below can be set with `-p`:
#
# ```sh
# papermill nbs/train_sr.ipynb runs/edsr_x2/train_sr.ipynb -p out_dir runs/edsr_x2                 # CPU recipe, embedded photos
# papermill nbs/train_sr.ipynb out.ipynb -p preset paper -p scale 4 -p out_dir runs/edsr_m_x4      # BasicSR's EDSR-M recipe on DIV2K
# papermill nbs/train_sr.ipynb out.ipynb -p preset paper -p model rcan -p scale 2 -p out_dir runs/rcan_x2
# torchrun --nproc_per_node 4 $(which srkd_run) nbs/train_sr.ipynb -p preset paper -p out_dir runs/edsr_m_x2
# ```
#
# The run writes `metrics.json`, `per_image.csv`, `model.safetensors`, `crops.png`, `curves.png` and its logs into `out_dir`, and
# resumes from `out_dir/state.pt` when it is started again.

# %% tags=["parameters"]
scale: int = 2  # upscaling factor: 2, 3 or 4 (8 for EDSR and RCAN)
preset: str = 'cpu'  # recipe in srkd.runs.SCRATCH_PRESETS: smoke (seconds), cpu (minutes) or paper (BasicSR)
data: str = None  # training data: samples, a dataset under data/ (DIV2K, DF2K...) or a folder of HR images; None means the recipe's
model: str = None  # architecture preset in srkd.models.MODEL_PRESETS; None means the recipe's
iters: int = None  # training iterations; None means the recipe's
bs: int = None  # batch size (all GPUs together); None means the recipe's
patch_size: int = None  # LR patch size; None means the recipe's
lr: float = None  # learning rate; None means the recipe's
eval_data: str = None  # comma-separated evaluation sets (e.g. Set5,Set14); None means the held-out part of data
tile: int = None  # evaluate large images in LR tiles of this size; None means whole images
seed: int = 0  # seed of the initial weights and of the data order
device: str = 'auto'  # auto, cpu, cuda, cuda:1 or mps
amp: bool = False  # bf16 autocast of the forward passes (CUDA or CPU); False trains in float32, as the official code does
out_dir: str = 'runs/train_sr'  # folder for the run's files
resume: bool = True  # continue from out_dir/state.pt when it exists

# %% [markdown]
# The method is `scratch` (`srkd.runs`): one network, L1 to the HR patch, Adam and a multi-step schedule, validated on
# whole images on the Y channel. `srkd.runs.run_method` does the rest as for every method: it prints the recipe (the
# preset with the parameters that were set), trains with resume, evaluates the network next to MATLAB bicubic on the
# same images (SR rounded to 8 bits, Y PSNR/SSIM with `crop_border = scale`, BasicSR's conventions), and writes the
# record and the figures: the crops, and the training curve beside the validation PSNR.

# %%
from srkd.runs import notebook_parameters, run_method

run, record = run_method('scratch', notebook_parameters('train_sr.ipynb', globals()), 'nbs/train_sr.ipynb')
