"""nbs/train_fakd.ipynb runs end to end with the smoke preset, and its parameters take effect: the method picks the
logged loss terms, alpha / feature_loss / taps / scale / teacher change what is trained and measured, the small
teacher is trained once per out_dir and then reused, and a missing official teacher is a clear error."""
import csv, json, math
from pathlib import Path

import pytest
import papermill as pm

from srkd.checkpoints import read_metadata, save_model
from srkd.models import build_model

NBS = Path(__file__).resolve().parents[1]/'nbs'
TEACHER_FILES = ('teacher/model.safetensors', 'teacher/metrics.json', 'teacher/state.pt', 'teacher.safetensors')


def run(out_dir, **params):
    out_dir = Path(out_dir); out_dir.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(NBS/'train_fakd.ipynb'), str(out_dir/'train_fakd.ipynb'),
                        parameters={'preset': 'smoke', **params, 'out_dir': str(out_dir)}, cwd=str(NBS), progress_bar=False)
    return out_dir


def metrics(out_dir): return json.loads((Path(out_dir)/'metrics.json').read_text())
def train_log(out_dir): return [json.loads(l) for l in open(Path(out_dir)/'train.jsonl')]
def logged_terms(out_dir): return {k for row in train_log(out_dir) for k in row} - {'iter', 'loss', 'lr', 'time'}


@pytest.fixture(scope='module')
def fakd_run(tmp_path_factory, eval_folder):
    "A smoke FAKD run without a teacher: it trains its teacher into out_dir/teacher. Returns (folder, record, log, mtimes)."
    out = run(tmp_path_factory.mktemp('fakd'), eval_data=str(eval_folder))
    return out, metrics(out), train_log(out), {f: (out/f).stat().st_mtime_ns for f in TEACHER_FILES}


def test_fakd_trains_its_teacher_and_logs_sa(fakd_run, eval_folder):
    out, m, log, _ = fakd_run
    assert {k for row in log for k in row} - {'iter', 'loss', 'lr', 'time'} == {'DS', 'TS', 'SA'}
    assert [r['iter'] for r in log] == [1, 2, 3, 4] and m['iters_done'] == 4
    assert (m['method'], m['alpha'], m['feature_loss'], m['taps'], m['teacher_trained_here']) == ('fakd', 0.5, '10*SA', [1, 2, 3], True)
    teacher = json.loads((out/'teacher'/'metrics.json').read_text())
    assert teacher['params']['model'] == 'rcan_tiny_t' and teacher['iters_done'] == 3   # the smoke teacher recipe
    assert (out/'teacher.safetensors').read_bytes() == (out/'teacher'/'model.safetensors').read_bytes()
    assert read_metadata(out/'student.safetensors')['config']['num_block'] == 1
    # student, teacher and bicubic scored on the same held-out images; the teacher is the 4x4-block network
    assert set(m['results']) == set(m['teacher']) == set(m['bicubic']) == {eval_folder.name}
    assert m['sizes']['teacher']['num_params'] > 2 * m['sizes']['student']['num_params'] == 2 * m['num_params']
    assert m['sizes']['student']['multi_adds_720p'] == m['multi_adds_720p']
    d = m['affinity_distance']
    assert d['patches'] == 18 and d['patch_size'] == [16, 16] and list(d['per_tap']) == ['1', '2', '3']
    assert math.isclose(d['total'], sum(d['per_tap'].values())) and 0 < d['total'] < 6
    rows = list(csv.DictReader(open(out/'per_image.csv')))
    assert {r['image'] for r in rows} == {'chelsea', 'coffee'} and (out/'crops.png').stat().st_size > 0


def test_second_run_reuses_the_teacher_and_kd_logs_only_ds_ts(fakd_run, eval_folder):
    "Same out_dir, `-p method kd`, started over: the teacher is not trained again (no file rewritten)."
    out, _, _, mtimes = fakd_run
    run(out, eval_data=str(eval_folder), method='kd', resume=False)
    assert {f: (out/f).stat().st_mtime_ns for f in TEACHER_FILES} == mtimes
    assert logged_terms(out) == {'DS', 'TS'}
    m = metrics(out)
    assert (m['method'], m['alpha'], m['feature_loss'], m['teacher_trained_here']) == ('kd', 0.5, '', True)
    assert m['affinity_distance']['total'] > 0          # still measured against the teacher


def test_scale_taps_alpha_feature_loss_and_a_given_teacher(tmp_path, eval_folder):
    "`-p scale 3 -p teacher FILE -p taps 3 -p alpha 0.25 -p feature_loss 5*SA -p iters 2 -p lr 3e-4`: x3 outputs, no teacher training."
    teacher = save_model(build_model('rcan_tiny_t', scale=3), tmp_path/'t3.safetensors')
    out = run(tmp_path/'run', eval_data=str(eval_folder), scale=3, teacher=str(teacher), taps='3', alpha=0.25,
              feature_loss='5*SA', iters=2, lr=3e-4)
    m = metrics(out)
    assert [r['iter'] for r in train_log(out)] == [1, 2] and m['iters_done'] == 2
    assert all(r['lr'] == 3e-4 for r in train_log(out)) and m['recipe']['stages'][0]['lr'] == 3e-4
    assert m['scale'] == 3 and m['model_config']['upscale'] == 3 and read_metadata(out/'student.safetensors')['config']['upscale'] == 3
    assert m['teacher_trained_here'] is False and m['teacher_checkpoint'] == str(teacher)
    assert not (out/'teacher').exists() and not (out/'teacher.safetensors').exists()
    assert m['taps'] == [3] and list(m['affinity_distance']['per_tap']) == ['3'] and m['affinity_distance']['patch_size'] == [16, 16]
    rows = list(csv.DictReader(open(out/'per_image.csv')))
    assert all(int(r['height']) % 3 == 0 and int(r['width']) % 3 == 0 for r in rows)
    for row in train_log(out):   # the logged terms are unweighted: the total shows alpha and the SA weight
        assert math.isclose(row['loss'], 0.75 * 255 * row['DS'] + 0.25 * 255 * row['TS'] + 5 * row['SA'], rel_tol=1e-5)


@pytest.mark.parametrize('params, message', [
    (dict(preset='paper', scale=2), r"data/checkpoints/RCAN_BIX2\.pt does not exist; put the official RCAN x2 weights"),
    (dict(preset='paper', scale=4, teacher='/nonexistent/RCAN_BIX4.pt'), r"/nonexistent/RCAN_BIX4\.pt does not exist"),
    (dict(taps='1,5'), r"taps='1,5': expected distinct feature indices"),
    (dict(method='fsp'), r"method='fsp' is not known"),
])
def test_bad_parameters(tmp_path, params, message):
    if (NBS.parent/'data'/'checkpoints'/'RCAN_BIX2.pt').exists() and 'teacher' not in params and params.get('preset') == 'paper':
        pytest.skip('this machine has the official RCAN_BIX2.pt')
    with pytest.raises(pm.PapermillExecutionError, match=message):
        run(tmp_path, **params)
    assert not (tmp_path/'teacher').exists()
