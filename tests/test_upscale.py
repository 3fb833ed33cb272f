"""`srkd_upscale` end to end, as a user runs it: a subprocess, an srkd checkpoint and an official (BasicSR-layout) one."""
import subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srkd.checkpoints import save_model
from srkd.data import read_image, write_image
from srkd.models import build_model

EXE = str(Path(sys.executable).parent/'srkd_upscale')


def upscale(*args, ok=True):
    "Run `srkd_upscale ARGS` on the CPU; return its output (stdout and stderr), checking the exit status."
    r = subprocess.run([EXE, *map(str, args), '--device', 'cpu'], capture_output=True, text=True, timeout=120)
    assert (r.returncode == 0) == ok, r.stdout + r.stderr
    return r.stdout + r.stderr


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    "A tiny EDSR x2 as an srkd run saves it and in BasicSR's layout, and a folder of 12x10 images of each kind."
    d = tmp_path_factory.mktemp('upscale')
    torch.manual_seed(0)
    net = build_model('edsr_tiny', scale=2)
    save_model(net, d/'model.safetensors', metadata={'method': 'scratch'})
    torch.save({'params': net.state_dict()}, d/'edsr_x2.pth')
    rng = np.random.default_rng(0)
    rgb8, a8 = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8), rng.integers(0, 256, (10, 12), dtype=np.uint8)
    lr = d/'lr'
    lr.mkdir()
    Image.fromarray(rgb8).save(lr/'photo.jpg')
    Image.fromarray(rgb8[..., 0]).save(lr/'grey.png')
    Image.fromarray(np.dstack([rgb8, a8])).save(lr/'logo.png')
    write_image(lr/'scan16.png', rng.random((10, 12, 3), dtype=np.float32), 16)
    upscale(lr, d/'sr', '--checkpoint', d/'model.safetensors')
    return d


def test_folder_in_folder_out(files):
    "Names kept (JPEG becomes PNG), sizes x2, 16 bits stay 16, grey stays grey, alpha is upscaled and kept."
    sr = files/'sr'
    assert sorted(p.name for p in sr.iterdir()) == ['grey.png', 'logo.png', 'photo.png', 'scan16.png']
    for p in sr.iterdir():
        with Image.open(p) as im: assert im.size == (24, 20), p.name
    with Image.open(sr/'grey.png') as im: assert im.mode == 'L'
    with Image.open(sr/'photo.png') as im: assert im.mode == 'RGB'
    with Image.open(sr/'logo.png') as im, Image.open(files/'lr'/'logo.png') as lr:
        assert im.mode == 'RGBA'
        alpha, lr_alpha = np.asarray(im)[..., 3] / 255, np.asarray(lr)[..., 3] / 255
    assert abs(alpha.mean() - lr_alpha.mean()) < 0.02 and alpha.std() > 0.1  # bicubic-upscaled, not dropped or constant
    assert (sr/'scan16.png').read_bytes()[24] == 16  # the PNG header's bit depth
    levels = np.round(read_image(sr/'scan16.png') * 65535)
    assert len(np.unique(levels % 257)) > 1  # values between the 8-bit levels: not an 8-bit image stored in 16 bits


def test_official_checkpoint_gives_the_same_images(files, tmp_path):
    upscale(files/'lr', tmp_path, '--checkpoint', files/'edsr_x2.pth', '--model', 'edsr_tiny', '--scale', 2)
    for name in ('grey.png', 'logo.png', 'photo.png', 'scan16.png'):
        assert np.array_equal(read_image(tmp_path/name), read_image(files/'sr'/name)), name


def test_tiled_equals_whole(files, tmp_path):
    "4-pixel tiles with the default 16 pixels of overlap (more than this EDSR's 12-pixel receptive radius)."
    upscale(files/'lr', tmp_path, '--checkpoint', files/'model.safetensors', '--tile', 4)
    for name in ('grey.png', 'logo.png', 'photo.png', 'scan16.png'):
        a, b = read_image(tmp_path/name), read_image(files/'sr'/name)
        step = 1 / 65535 if name == 'scan16.png' else 1 / 255
        assert np.abs(a - b).max() <= step + 1e-7 and (a != b).mean() < 0.01, name  # at most one rounding step, rarely


def test_refuses_to_overwrite(files, tmp_path):
    out = tmp_path/'photo.png'
    out.write_bytes(b'old')
    msg = upscale(files/'lr'/'photo.jpg', tmp_path, '--checkpoint', files/'model.safetensors', ok=False)
    assert msg.startswith('srkd_upscale: 1 output file(s) exist already') and str(out) in msg and '--overwrite' in msg, msg
    assert msg.count('\n') == 1 and 'Traceback' not in msg, msg
    assert out.read_bytes() == b'old'
    upscale(files/'lr'/'photo.jpg', tmp_path, '--checkpoint', files/'model.safetensors', '--overwrite')
    assert np.array_equal(read_image(out), read_image(files/'sr'/'photo.png'))
    assert [p.name for p in tmp_path.iterdir()] == ['photo.png']  # no temporary file left beside it


@pytest.mark.parametrize('args, message', [
    (['--checkpoint', 'missing.safetensors'], 'missing.safetensors does not exist'),
    (['--checkpoint', 'edsr_x2.pth', '--model', 'edsr_tiny'], 'edsr_x2.pth is an official file: give its scale too'),
])
def test_one_line_errors(files, tmp_path, args, message):
    args = [files/a if a.endswith(('.safetensors', '.pth')) else a for a in args]
    msg = upscale(files/'lr', tmp_path/'out', *args, ok=False)
    assert msg.startswith('srkd_upscale: ') and message in msg and msg.count('\n') == 1 and 'Traceback' not in msg, msg
    assert not (tmp_path/'out').exists()
