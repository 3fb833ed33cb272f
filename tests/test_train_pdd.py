"""nbs/train_pdd.ipynb runs end to end with the smoke preset, and each PDD parameter takes effect: the shipped config
fills the unset options, the schedule (d_init, warmup) decides which terms each iteration logs, lambda_inter /
lambda_intra weigh the total, resize changes the synthetic LR, detach changes the update, init / reference /
static_reference choose the weights of S and of the frozen G, color_corr changes what is evaluated, target and
vgg_weights name their inputs; a target folder with fewer than two images or images smaller than the crop is refused
by name."""
import math

import numpy as np
import pytest
import papermill as pm

from srkd.data import sample_images, write_image
from notebook_runs import execute, record_and_log

G_TERMS, DIST = {'l_g_pix', 'l_g_percep', 'l_g_gan'}, {'l_inter', 'l_intra'}


def run(out_dir, **params):
    params = {'preset': 'smoke', 'device': 'cpu', 'vgg_weights': 'random', **params}
    return record_and_log(execute('train_pdd.ipynb', out_dir, params, single_thread=True))


def close(a, b): return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7)
def total(r, w_inter=1., w_intra=1.):
    return 0.5 * r['l_g_pix'] + r['l_g_percep'] + 0.01 * r['l_g_gan'] + w_inter * r.get('l_inter', 0) + w_intra * r.get('l_intra', 0)


@pytest.fixture(scope='module')
def default_run(tmp_path_factory, eval_folder):
    "A smoke run with every PDD option unset. Returns (folder, record, log)."
    out = tmp_path_factory.mktemp('pdd')
    return (out, *run(out, eval_data=str(eval_folder)))


@pytest.fixture(scope='module')
def lr_folder(tmp_path_factory):
    "Three 16x16 LR crops of the validation photos: a small target domain."
    d = tmp_path_factory.mktemp('target')
    for k, (name, img) in enumerate(list(sample_images('valid').items()) * 2):
        if k < 3: write_image(d/f'{name}_{k}.png', np.ascontiguousarray(img[40 * k:40 * k + 16, 50:66]))
    return d


def test_defaults_schedule_and_files(default_run, eval_folder):
    out, m, log = default_run
    assert (m['method'], m['config'], m['resize'], m['target'], m['target_images']) == ('pdd', 'ema', 'cv2', 'samples', 5)
    assert (m['lambda_inter'], m['lambda_intra'], m['warmup'], m['detach'], m['d_init'], m['reference']) == (1, 1, 5, False, 1, None)
    assert [r['iter'] for r in log] == list(range(1, 9))
    assert not (G_TERMS | DIST) & set(log[0])  # t = 1: D alone
    assert all(G_TERMS <= set(r) and not DIST & set(r) and close(r['loss'], total(r)) for r in log[1:6])  # t = 2..6: the warm-up
    assert all(G_TERMS | DIST <= set(r) and close(r['loss'], total(r)) for r in log[6:])  # t = 7, 8: PDD
    assert all({'l_d_real', 'l_d_fake'} <= set(r) for r in log)
    assert {'specialist.safetensors', 'ema.safetensors', 'metrics.json', 'state.pt'} <= {p.name for p in out.iterdir()}
    assert set(m['results']) == set(m['ema']) == set(m['bicubic']) == {eval_folder.name} and 'frozen_g' not in m


def test_weights_warmup_resize_and_target(tmp_path, default_run, eval_folder, lr_folder):
    _, _, base = default_run
    m, log = run(tmp_path, eval_data=str(eval_folder), lambda_inter=2., lambda_intra=0.5, warmup=2, resize='matlab', target=str(lr_folder), iters=4)
    assert (m['lambda_inter'], m['lambda_intra'], m['warmup'], m['resize'], m['target_images']) == (2, 0.5, 2, 'matlab', 3)
    assert not DIST & set(log[2]) and DIST <= set(log[3]) and close(log[3]['loss'], total(log[3], 2., 0.5))
    assert log[0]['l_d_real'] == base[0]['l_d_real'] and log[0]['l_d_fake'] != base[0]['l_d_fake']  # same HR, other LR


def test_detach_changes_the_update(tmp_path, default_run, eval_folder):
    _, _, base = default_run
    m, log = run(tmp_path, eval_data=str(eval_folder), detach=True)
    assert m['detach'] is True
    assert all(log[k][n] == base[k][n] for k in range(7) for n in ('l_g_pix', 'l_d_fake', 'l_inter', 'l_intra') if n in base[k])
    assert log[7]['l_g_pix'] != base[7]['l_g_pix']  # the update at t = 7, the first with distillation, differed


def test_static_config_init_reference_and_color_corr(tmp_path, default_run, eval_folder):
    out, base, _ = default_run
    trained, e = str(out/'specialist.safetensors'), eval_folder.name
    m, log = run(tmp_path/'s', eval_data=str(eval_folder), config='static', init=trained, reference=trained, d_init=5, iters=3)
    assert (m['config'], m['warmup'], m['detach'], m['reference']) == ('static', 0, True, trained)
    assert not any(G_TERMS & set(r) for r in log)  # d_init=5: D alone for the whole run, S stays at init
    for key in ('results', 'frozen_g', 'ema'):
        assert m[key][e]['psnr_y'] == base['results'][e]['psnr_y'], key
    c, _ = run(tmp_path/'c', eval_data=str(eval_folder), config='static', init=trained, static_reference='generalist', color_corr=True, d_init=5, iters=1)
    assert (c['color_corr'], c['static_reference'], c['reference']) == (True, 'generalist', trained)
    assert c['results'][e]['psnr_y'] != m['results'][e]['psnr_y'] == m['frozen_g'][e]['psnr_y']
    assert c['frozen_g'][e]['psnr_y'] == c['results'][e]['psnr_y']  # G = the generalist = S's init, both colour-corrected


def test_refusals_name_the_setting(tmp_path):
    one = tmp_path/'one'; one.mkdir()
    write_image(one/'a.png', np.zeros((20, 20, 3)))
    with pytest.raises(pm.PapermillExecutionError, match=r"holds 1 image; PDD needs at least 2 unlabeled LR images"):
        run(tmp_path/'r1', target=str(one))
    write_image(one/'b.png', np.zeros((8, 30, 3)))
    with pytest.raises(pm.PapermillExecutionError, match=r"1 image\(s\) smaller than the 12x12 LR crop: b\.png \(8x30\)"):
        run(tmp_path/'r2', target=str(one))
    with pytest.raises(pm.PapermillExecutionError, match=r"-p vgg_weights /path/to/vgg19-dcbb9e9d\.pth"):
        run(tmp_path/'r3', vgg_weights=str(tmp_path/'missing.pth'))
    with pytest.raises(pm.PapermillExecutionError, match=r"config='frozen' is not known"):
        run(tmp_path/'r4', config='frozen')
    assert not (tmp_path/'r1'/'metrics.json').exists()
