"""nbs/train_ibsd.ipynb runs end to end with the smoke preset, and each IBSD parameter takes effect: lambda_mi / lambda_hf
weigh (or drop) their terms, estimator_lr changes the estimators' first step, alpha_max / soft_target / target_ema /
snapshot_every shape the soft target, student / data / seed / posthoc_steps / test_psize change what is trained and
measured, student_init starts from given weights; the settings the released code lacks are labelled as assumptions."""
import math

import pytest
import papermill as pm

from srkd.checkpoints import read_metadata
from notebook_runs import execute, record_and_log

IBSD_TERMS = {'l_mi', 'l_hf', 'l_est', 'mi_1', 'mi_2', 'mi_3', 'alpha'}


def run(out_dir, **params):
    return record_and_log(execute('train_ibsd.ipynb', out_dir, {'preset': 'smoke', 'device': 'cpu', **params}))


def close(a, b): return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7)


@pytest.fixture(scope='module')
def default_run(tmp_path_factory, eval_folder):
    "A smoke run with every IBSD option unset. Returns (folder, record, log)."
    out = tmp_path_factory.mktemp('ibsd')
    return (out, *run(out, eval_data=str(eval_folder)))


def test_defaults(default_run, eval_folder):
    out, m, log = default_run
    assert (m['method'], m['student'], m['lambda_mi'], m['lambda_hf'], m['soft_target'], m['alpha_max']) == ('ibsd', 'imdn_tiny', 1e-4, 0.5, 'snapshot', 0.8)
    assert m['snapshot_every'] == 2 and m['recipe']['options']['snapshot_every'] == 2 and m['iters_done'] == 4
    assert [r['iter'] for r in log] == [1, 2, 3, 4] and all(IBSD_TERMS <= set(r) for r in log)
    for r in log:
        assert close(r['loss'], r['l_rec'] + 1e-4 * r['l_mi'] + 0.5 * r['l_hf'])
        assert math.isclose(r['l_mi'], r['mi_1'] + r['mi_2'] + r['mi_3'], rel_tol=1e-5, abs_tol=1e-5)
        assert close(r['alpha'], 0.8 * (r['iter'] - 1) / 4)
    a = m['assumptions']
    assert {'lambda_mi', 'lambda_hf', 'soft_target', 'estimator_optimizer', 'alternation', 'note'} <= set(a) and 'PS-KD' in a['soft_target']
    assert m['selection'].startswith('the last iteration')
    assert set(m['results']) == set(m['bicubic']) == set(m['ibsd_protocol']) == {eval_folder.name}
    p = m['ibsd_protocol'][eval_folder.name]
    assert p['n_images'] == 2 and all(math.isfinite(p[k]) for k in ('psnr_y', 'psnr_rgb', 'ssim_rgb'))
    assert m['posthoc_mi']['steps'] == 5 and all(math.isfinite(m['posthoc_mi'][f'mi_{k}']) for k in (1, 2, 3))
    assert read_metadata(out/'student.safetensors')['config']['arch'] == 'IMDN'
    assert m['num_params'] == m['sizes']['student']['num_params'] == 45_450  # the student alone (x2): no estimator inside


def test_weights_estimator_lr_and_soft_target(tmp_path, default_run, eval_folder):
    "Same seed, student and batches as the default run: each setting changes what it acts on, from where it acts."
    _, _, base = default_run
    m, log = run(tmp_path/'c', eval_data=str(eval_folder), lambda_mi=0.01, lambda_hf=2.0, estimator_lr=1e-2,
                 soft_target='ema', alpha_max=0.5, target_ema=0.5, iters=2)
    assert (m['lambda_mi'], m['lambda_hf'], m['estimator_lr'], m['soft_target'], m['alpha_max'], m['target_ema']) == (0.01, 2, 0.01, 'ema', 0.5, 0.5)
    assert all(close(r['loss'], r['l_rec'] + 0.01 * r['l_mi'] + 2 * r['l_hf']) for r in log)
    first, b0 = log[0], base[0]
    assert first['l_rec'] == b0['l_rec'] and first['l_est'] == b0['l_est']  # same student, estimators and batch before any step
    assert first['mi_1'] != b0['mi_1']  # the bound is taken after the estimator step, which estimator_lr changes
    assert close(first['alpha'], 0.0) and close(log[1]['alpha'], 0.25)
    assert m['assumptions']['estimator_optimizer'].startswith('Adam, lr 0.01')


def test_weights_off_and_student_init(tmp_path, default_run, eval_folder):
    out, _, base = default_run
    m, log = run(tmp_path/'b', eval_data=str(eval_folder), lambda_mi=0.0, lambda_hf=0.0, iters=2,
                 student_init=str(out/'student.safetensors'))
    assert not any(IBSD_TERMS & set(r) for r in log) and all(close(r['loss'], r['l_rec']) for r in log)
    assert log[0]['l_rec'] != base[0]['l_rec']  # started from the trained weights
    assert m['student_init'].endswith('student.safetensors')


def test_student_data_seed_and_measurements(tmp_path, eval_folder):
    m, log = run(tmp_path/'d', data=str(eval_folder), student='rfdn_tiny', seed=3, posthoc_steps=0, test_psize=8, test_overlap=2, iters=1)
    assert (m['student'], m['seed'], m['posthoc_mi'], m['test_psize'], m['test_overlap']) == ('rfdn_tiny', 3, None, 8, 2)
    assert m['num_params'] == 60_690 and m['model_config']['arch'] == 'RFDN_IBSD'
    assert set(m['results']) == set(m['ibsd_protocol']) == {eval_folder.name} and m['ibsd_protocol'][eval_folder.name]['n_images'] == 1
    assert [r['iter'] for r in log] == [1]


def test_bad_values_are_refused_by_name(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match=r"soft_target='pskd' is not known"):
        run(tmp_path/'s', soft_target='pskd')
    assert not (tmp_path/'s'/'metrics.json').exists()
