# %% [markdown]
# # Train a specialist with PDD
#
# > Pairwise distance distillation (srkd.pdd): a specialist S adapted to unlabeled real LR images of a target domain under a generalist G (the EMA of S, or frozen), with intra- and inter-model distances in VGG19 space, the wavelet pixel, perceptual and GAN losses on synthetic pairs, and the official schedule.
#
# - skip_exec: true

# %% [markdown]
# Run it with papermill; every parameter below can be set with `-p`:
#
# ```sh
# papermill nbs/train_pdd.ipynb out.ipynb -p preset smoke -p vgg_weights random -p out_dir runs/pdd_smoke   # seconds, no files needed
# papermill nbs/train_pdd.ipynb out.ipynb -p out_dir runs/pdd_cpu -p vgg_weights /path/to/vgg19-dcbb9e9d.pth   # CPU preset
# papermill nbs/train_pdd.ipynb out.ipynb -p preset paper -p out_dir runs/pdd_ema                 # EMA_x4_canon
# papermill nbs/train_pdd.ipynb out.ipynb -p preset paper -p resize matlab -p out_dir runs/pdd_ema_matlab   # EMA_matlabresize_x4_canon
# papermill nbs/train_pdd.ipynb out.ipynb -p preset paper -p config static -p out_dir runs/pdd_static      # Static_x4_canon
# torchrun --nproc_per_node 2 $(which srkd_run) nbs/train_pdd.ipynb -p preset paper -p target data/my_camera/LR
# ```
#
# The paper preset needs `data/checkpoints/RealESRGAN_x4plus.pth` (S and G), for Static also
# `data/checkpoints/ESRGAN_SRx4_DF2KOST_official-ff704c30.pth` (G), torchvision's VGG19 weights
# (`vgg_weights`, or `$SRKD_VGG19_WEIGHTS`), DF2K under `data/` and the target's LR images. The run writes
# `metrics.json` (S, its EMA, the frozen G in Static, and bicubic on the same images; the PDD settings as run),
# `per_image.csv`, `specialist.safetensors` (S, the official `params`) and `ema.safetensors` (`params_ema`),
# `crops.png`, `curves.png` and its logs into `out_dir`, and resumes from `out_dir/state.pt` when started again.

# %% tags=["parameters"]
scale: int = 4  # upscaling factor: 4 (the paper) or 2
preset: str = 'cpu'  # recipe in srkd.pdd.PDD_PRESETS: smoke (seconds), cpu (minutes, a tiny RRDBNet) or paper (the shipped configs)
config: str = None  # ema (G is the EMA of S, the main configuration) or static (G frozen); None means ema
resize: str = None  # synthetic LR: cv2 (random cubic/linear/area) or matlab (MATLAB bicubic, the EMA_matlabresize config); None means cv2
target: str = None  # unlabeled target-domain LR images: a folder, RealSR / RealSR-Canon / DRealSR, or samples; None means the preset's
lambda_inter: float = None  # weight of the inter-model (Gram of the S-G gap) term; None means the config's (1, or 0.5 for ema+matlab)
lambda_intra: float = None  # weight of the intra-model (channel-softmax cross-entropy) term; None means 1
warmup: int = None  # generator iterations without distillation after the D-only phase; None means the config's (ema 5, static 0)
detach: bool = None  # the distillation sees S(y_s) without gradient (domain_opt_detach); None means the config's (ema False, static True)
d_init: int = None  # iterations that train the discriminator alone (net_d_init_iters); None means the preset's (paper 300)
static_reference: str = None  # static config's G: esrgan (the shipped yml) or generalist (Real-ESRGAN, the README's reading); None means esrgan
init: str = None  # weights of S (and of G in ema), '' for random; None means the preset's (paper: data/checkpoints/RealESRGAN_x4plus.pth)
reference: str = None  # static config's G weights; None follows static_reference ('' or a random init copies S's initial weights)
vgg_weights: str = None  # torchvision's vgg19-dcbb9e9d.pth, or random (smoke runs only); None means $SRKD_VGG19_WEIGHTS or torch hub's cache
color_corr: bool = None  # evaluate with inference_SISR.py's --color_corr (SR rescaled to the LR's mean and std); None means False
data: str = None  # HR images of the synthetic domain: samples, DF2K, DIV2K or a folder; None means the preset's
eval_data: str = None  # comma-separated evaluation sets (paired); None means the preset's (paper: RealSR-Canon)
iters: int = None  # training iterations; None means the preset's
bs: int = None  # images of each domain per iteration (all GPUs together); None means the preset's
patch_size: int = None  # LR crop size of both domains; None means the preset's (paper 48)
lr: float = None  # learning rate of S; None means the preset's
tile: int = None  # evaluate large images in LR tiles of this size; None means whole images
seed: int = None  # seed of the initial weights, the data and the draws; None means the preset's (paper 0)
device: str = 'auto'  # auto, cpu, cuda, cuda:1 or mps
amp: bool = False  # bf16 autocast of the forward passes; False trains in float32, as the official code does
out_dir: str = 'runs/train_pdd'  # folder for the run's files
resume: bool = True  # continue from out_dir/state.pt when it exists

# %% [markdown]
# The method is registered by the PDD chapter (`13_pdd.ipynb`) on the core and trains through `srkd.pdd.train_pdd`:
# the two domains (synthetic pairs from `data`, unlabeled LR crops from `target`), S from `init` and G (its EMA, or a
# frozen network), the discriminator alone for `d_init` iterations, then the supervised terms, then PDD's
# distillation after the warm-up. `srkd.runs.run_method` resolves the recipe (unset options take the shipped config
# of `config` and `resize`), prints it, scores S, its EMA (and the frozen G) and MATLAB bicubic on the same whole
# held-out images and writes the record and the figures.

# %%
from srkd.runs import notebook_parameters, run_method

# %%
run, record = run_method('pdd', notebook_parameters('train_pdd.ipynb', globals()), 'nbs/train_pdd.ipynb')
