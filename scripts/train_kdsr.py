# %% [markdown]
# # Train KDSR
#
# > Blind SR with knowledge-distillation based degradation estimation: the teacher (stage 1), then the student (stage 2), and for real-world data KDSR-GAN, on the core trainer.
#
# - skip_exec: true

# %% [markdown]
# Run it with papermill; every parameter below can be set with `-p`:
#
# ```sh
# papermill nbs/train_kdsr.ipynb out.ipynb -p scale 4                                   # CPU recipe: isotropic blur, embedded photos, a few minutes
# papermill nbs/train_kdsr.ipynb out.ipynb -p setting aniso -p out_dir runs/kdsr_aniso  # anisotropic blur + noise, KD-only warm-up
# papermill nbs/train_kdsr.ipynb out.ipynb -p setting gan -p vgg_weights /path/to/vgg19-dcbb9e9d.pth -p out_dir runs/kdsr_gan
# papermill nbs/train_kdsr.ipynb out.ipynb -p preset paper -p out_dir runs/kdsr_m_x4     # the released KDSR_S-M recipe (needs DF2K)
# papermill nbs/train_kdsr.ipynb out.ipynb -p preset paper -p size l -p out_dir runs/kdsr_l_x4               # KDSR_S-L
# papermill nbs/train_kdsr.ipynb out.ipynb -p preset paper -p setting gan -p data /path/DF2K_OST_sub \
#     -p vgg_weights /path/to/vgg19-dcbb9e9d.pth -p out_dir runs/kdsr_gan_x4                                  # KDSR-GAN
# torchrun --nproc_per_node 4 $(which srkd_run) nbs/train_kdsr.ipynb -p preset paper -p out_dir runs/kdsr_m_x4
# ```
#
# The chapter `11_kdsr.ipynb` explains every piece. The run writes into `out_dir`: `metrics.json` (the student's
# PSNR/SSIM per test degradation, with the teacher's, bicubic's and the distillation measurements beside them),
# `per_image.csv`, `teacher.safetensors`, `student.safetensors` (for `gan`: the KDSRGAN_S EMA weights, and
# `student_net.safetensors` for KDSRNet_S), `crops.png`, `curves.png`, and per stage its logs and training state
# (`teacher/`, `student/`, `gan/`), from which it resumes when started again.

# %% tags=["parameters"]
scale: int = 4  # upscaling factor: 2, 3 or 4 (the released models are x4)
setting: str = 'iso'  # iso (isotropic blur), aniso (anisotropic blur and noise, KD-only warm-up) or gan (KDSR-GAN, Real-ESRGAN degradations)
preset: str = 'cpu'  # recipe in srkd.kdsr.KDSR_RECIPES: smoke (seconds), cpu (minutes) or paper (the released configuration)
size: str = None  # model size: tiny, m (KDSR_S-M), l (KDSR_S-L) or gan (KDSR_S-GAN); None means the recipe's
data: str = None  # training data: samples, a dataset under data/ (DF2K...) or a folder of HR images; None means the recipe's
eval_data: str = None  # comma-separated evaluation sets (samples, Set5, a folder...); None means the recipe's
teacher_iters: int = None  # stage 1 iterations; None means the recipe's
student_iters: int = None  # stage 2 iterations, KD-only warm-up included; None means the recipe's
gan_iters: int = None  # KDSRGAN_S iterations (setting gan); None means the recipe's
bs: int = None  # batch size of the L1 stages (all GPUs together); None means the recipe's
gan_bs: int = None  # batch size of the KDSRGAN_S stage (setting gan); None means the recipe's
patch_size: int = None  # LR patch size; None means the recipe's
kd_weight: float = None  # weight of the KL on D' (0 trains an undistilled student, G from the teacher, L1 only); None means the recipe's
teacher: str = None  # teacher.safetensors of an earlier run: skip stage 1 and distil from it
teacher_usm: bool = None  # KDSR-GAN V2: the GAN stage's teacher sees the USM-sharpened GT; None means the recipe's (no)
vgg_weights: str = None  # setting gan: torchvision's vgg19-dcbb9e9d.pth; None looks up SRKD_VGG19_WEIGHTS and torch hub's cache; random is for tests only
seed: int = 0  # seed of the initial weights, the data order and the degradations
device: str = 'auto'  # auto, cpu, cuda, cuda:1 or mps
amp: bool = False  # bf16 autocast of the forward passes (CUDA or CPU); False trains in float32, as the official code does
num_workers: int = 0  # DataLoader worker processes
out_dir: str = 'runs/train_kdsr'  # folder for the run's files
resume: bool = True  # continue each stage from its training state in out_dir when it exists

# %% [markdown]
# Each setting is a method registered by the KDSR chapter (`kdsr`, `kdsr_aniso`, `kdsr_gan`), trained by
# `srkd.kdsr.train_kdsr` on the core run: **stage 1**, KDSR$_T$ sees the LR batch and the clean HR batch and learns
# $G$ and its degradation estimator under L1 alone (skipped with `-p teacher`); **stage 2**, KDSR$_S$ starts with the
# teacher's $G$, sees the LR only and learns under L1 + the KL between the temperature softmaxes of the two estimators'
# $D'$ (τ = 0.15), the teacher frozen, with KD-only warm-up iterations for `aniso`; for `gan`, **KDSRGAN$_S$** adds the
# VGG19 perceptual loss and the GAN loss against a U-Net discriminator, starting from KDSRNet$_S$'s EMA weights. The
# LR batches are made at batch time from HR patches. Before and after stage 2 the distance between the two estimators
# is measured on 64 held-out patches, each with its own degradation.
#
# The evaluation degrades whole held-out images once per test degradation (Gaussian8 widths for `iso`, the released
# anisotropic kernel × noise 0/10/20 for `aniso`, fixed Real-ESRGAN draws for `gan`), rounds SR to 8 bits and scores
# Y PSNR/SSIM with `crop_border = scale`. The teacher is scored with its HR input, for reference only.

# %%
from srkd.kdsr import KDSR_SETTINGS
from srkd.methods import pick
from srkd.runs import notebook_parameters, run_method

run, record = run_method(pick(KDSR_SETTINGS, setting, 'setting'), notebook_parameters('train_kdsr.ipynb', globals()),
                         'nbs/train_kdsr.ipynb', selectors=('setting',))
