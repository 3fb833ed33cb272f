"""nbs/train_dukd.ipynb runs end to end with the smoke preset, and each DUKD parameter takes effect: the shipped config
fills the unset upcycling options, n_gt_sub / zoom_out switch the second update's terms, w_pix / w_kd weigh both
updates, prob / inverse / double_step change what is trained (same seed, same batches, different trajectories), the
pair chooses the official teacher, and the small teacher is trained once per out_dir."""
import json, math

import pytest
import papermill as pm

from srkd.checkpoints import read_metadata
from notebook_runs import execute, record_and_log

UPCYCLED = {'l_zoom_in', 'l_zoom_out_pix', 'l_zoom_out_kd', 'l_upcycled'}


def run(out_dir, **params):
    return record_and_log(execute('train_dukd.ipynb', out_dir, {'preset': 'smoke', 'device': 'cpu', **params}))


@pytest.fixture(scope='module')
def default_run(tmp_path_factory, eval_folder):
    "A smoke run with every DUKD option unset: it trains its teacher. Returns (folder, record, log)."
    out = tmp_path_factory.mktemp('dukd')
    return (out, *run(out, eval_data=str(eval_folder)))


def variant(tmp_path, default_run, eval_folder, **params):
    "A smoke run with the default run's teacher and some DUKD parameters set."
    return run(tmp_path, eval_data=str(eval_folder), teacher=str(default_run[0]/'teacher.safetensors'), **params)


def close(a, b): return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-9)


def test_defaults_are_the_shipped_edsr_x2_config(default_run, eval_folder):
    out, m, log = default_run
    assert (m['method'], m['pair'], m['n_gt_sub'], m['zoom_out'], m['prob'], m['w_pix'], m['w_kd']) == ('dukd', 'edsr_tiny', 2, True, 0.3, 5, 1)
    assert (m['inverse'], m['double_step'], m['teacher_train_mode'], m['teacher_trained_here']) == ('correct', True, False, True)
    assert [r['iter'] for r in log] == [1, 2, 3, 4] and all(UPCYCLED <= set(r) for r in log)
    for r in log:  # both updates weigh their terms with w_pix = 5 and w_kd = 1
        assert close(r['loss'], 5 * r['l_pix'] + r['l_kd'])
        assert close(r['l_upcycled'], r['l_zoom_in'] + 5 * r['l_zoom_out_pix'] + r['l_zoom_out_kd'])
    assert json.loads((out/'teacher'/'metrics.json').read_text())['params']['model'] == 'edsr_tiny_t'
    assert read_metadata(out/'student.safetensors')['config']['num_feat'] == 16
    assert set(m['results']) == set(m['teacher']) == set(m['bicubic']) == {eval_folder.name}
    s = m['signals']
    assert (s['patches'], s['tiles']) == (32, 128) and all(s[k] > 0 for k in ('inversion', 'rotation', 'teacher_l1_hr_tiles'))
    assert m['sizes']['teacher']['num_params'] > 4 * m['sizes']['student']['num_params'] == 4 * m['num_params']


def test_upcycling_switches_and_weights(tmp_path, default_run, eval_folder):
    m, log = variant(tmp_path/'a', default_run, eval_folder, zoom_out=False, w_pix=2.0, w_kd=0.5)
    assert (m['zoom_out'], m['w_pix'], m['w_kd']) == (False, 2, 0.5)
    assert all({'l_zoom_in', 'l_upcycled'} <= set(r) and not {'l_zoom_out_pix', 'l_zoom_out_kd'} & set(r) for r in log)
    assert all(close(r['loss'], 2 * r['l_pix'] + 0.5 * r['l_kd']) and close(r['l_upcycled'], 0.5 * r['l_zoom_in']) for r in log)
    m, log = variant(tmp_path/'kd', default_run, eval_folder, n_gt_sub=0, zoom_out=False)   # the output-KD baseline
    assert m['n_gt_sub'] == 0 and not any(UPCYCLED & set(r) for r in log)


def test_prob_inverse_and_double_step_change_the_training(tmp_path, default_run, eval_folder):
    "Same seed, teacher and batches as the default run: each parameter changes the logged losses from where it acts."
    _, _, base = default_run
    def zoom_in(log): return [r['l_zoom_in'] for r in log]
    _, no_aug = variant(tmp_path/'p', default_run, eval_folder, prob=0.0)
    assert no_aug[0]['l_pix'] == base[0]['l_pix'] and no_aug[0]['l_zoom_in'] != base[0]['l_zoom_in']
    _, repo = variant(tmp_path/'r', default_run, eval_folder, inverse='repo')
    assert repo[0]['l_pix'] == base[0]['l_pix'] and zoom_in(repo) != zoom_in(base)
    m, clean = variant(tmp_path/'d', default_run, eval_folder, double_step=False)
    assert m['double_step'] is False
    assert [r['l_upcycled'] for r in clean[:1]] == [r['l_upcycled'] for r in base[:1]] and clean[1]['l_pix'] != base[1]['l_pix']
    m, _ = variant(tmp_path/'t', default_run, eval_folder, teacher_train_mode=True, iters=1)
    assert m['teacher_train_mode'] is True and m['recipe']['options']['teacher_train_mode'] is True


def test_pair_chooses_the_official_teacher_and_bad_values_are_refused(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match=r"RCAN_BIX3\.pt does not exist"):
        run(tmp_path/'rcan', preset='paper', pair='rcan', scale=3)
    with pytest.raises(pm.PapermillExecutionError, match=r"n_gt_sub=5: expected 0 \(no zoom-in\) to 4 tiles"):
        run(tmp_path/'n', n_gt_sub=5)
    with pytest.raises(pm.PapermillExecutionError, match=r"inverse='reversed' is not known"):
        run(tmp_path/'i', inverse='reversed')
    assert not (tmp_path/'n'/'metrics.json').exists()
