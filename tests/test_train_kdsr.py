"""What is KDSR's own in train_kdsr.ipynb: the outputs of each setting (Gaussian8 sets, the KD-only warm-up, the GAN stage),
the blind student that is saved, and KDSR's parameter errors. Running, resuming, `-p scale 3` and unknown presets are
tested for every method at once in test_methods.py."""
import csv, inspect, json
from pathlib import Path

import pytest
import papermill as pm
import torch

from srkd.checkpoints import load_model
from srkd.experiment import evaluate, run_notebook
from srkd.kdsr import KDSRStudent, KDSRTeacher, kdsr_eval_sets
from notebook_runs import execute, one_thread

NBS = Path(__file__).resolve().parents[1]/'nbs'


def run(out_dir, **params):
    return execute('train_kdsr.ipynb', out_dir, {'preset': 'smoke', **params}, single_thread=True)


def metrics(out_dir): return json.loads((Path(out_dir)/'metrics.json').read_text())
def per_image(out_dir): return list(csv.DictReader(open(Path(out_dir)/'per_image.csv')))
def logged(out_dir, stage): return [json.loads(l) for l in open(Path(out_dir)/stage/'train.jsonl')]


@pytest.fixture(scope='module')
def iso_x4(tmp_path_factory):
    "The notebook's defaults (scale 4, setting iso) with the smoke recipe."
    return run(tmp_path_factory.mktemp('iso_x4'))


def test_iso_x4_writes_the_outputs(iso_x4):
    m = metrics(iso_x4)
    assert (m['method'], m['scale'], m['preset'], m['setting']) == ('kdsr', 4, 'smoke', 'iso')
    assert list(m['results']) == ['samples σ1.8', 'samples σ3.2']  # ends of Gaussian8 at x4
    assert set(m['teacher']) == set(m['bicubic']) == set(m['results'])
    assert m['iters_done'] == {'teacher': 4, 'student': 4}
    assert m['distillation']['init']['kl'] > 0 and m['distillation']['final']['kl'] > 0
    assert all((iso_x4/f).stat().st_size > 0 for f in ('per_image.csv', 'crops.png', 'teacher.safetensors'))
    rows = per_image(iso_x4)
    assert sorted({r['model'] for r in rows}) == ['bicubic', 'student', 'teacher']
    assert {(r['dataset'], r['image']) for r in rows if r['model'] == 'teacher'} == \
           {(d, i) for d in m['results'] for i in ('chelsea', 'coffee')}


def test_student_file_is_the_blind_model_that_was_scored(iso_x4):
    student, teacher = load_model(iso_x4/'student.safetensors'), load_model(iso_x4/'teacher.safetensors')
    assert isinstance(student, KDSRStudent) and isinstance(teacher, KDSRTeacher) and student.scale == teacher.scale == 4
    assert list(inspect.signature(student.forward).parameters) == ['lr']  # no HR input
    with torch.no_grad(): assert student(torch.rand(1, 3, 10, 13)).shape == (1, 3, 40, 52)
    again, _ = evaluate(student, kdsr_eval_sets('samples', 4, [dict(sigma=1.8, noise=0.)]), 4)
    assert abs(again['samples σ1.8']['psnr_y'] - metrics(iso_x4)['results']['samples σ1.8']['psnr_y']) < 1e-9


def test_evaluate_scores_the_student_on_its_protocol(iso_x4, tmp_path):
    "evaluate.ipynb reads the scale and the method from the student's file: a KDSR student is scored on Gaussian8 blur."
    out = tmp_path/'eval'; out.mkdir()
    with one_thread():
        pm.execute_notebook(str(NBS/'evaluate.ipynb'), str(out/'evaluate.ipynb'), cwd=str(NBS), progress_bar=False,
                            parameters={'checkpoint': str(iso_x4/'student.safetensors'), 'out_dir': str(out)})
    m, trained = metrics(out), metrics(iso_x4)
    assert (m['scale'], m['params']['degradation'], m['trained_by']) == (4, 'iso', 'kdsr')
    assert len(m['results']) == 8 and set(trained['results']) <= set(m['results'])  # all of Gaussian8 x4
    for name, r in trained['results'].items(): assert abs(m['results'][name]['psnr_y'] - r['psnr_y']) < 1e-6


def test_aniso_runs_the_kd_only_warm_up(tmp_path):
    out = run(tmp_path, setting='aniso')
    m = metrics(out)
    assert list(m['results']) == ['samples λ3.5,1.5 θ30', 'samples λ3.5,1.5 θ30 n20']
    rows = logged(out, 'student')
    assert ['l1' in r for r in rows] == [False, False, True, True]  # KD-only, then L1 + KL
    assert [r['lr'] for r in rows] == pytest.approx([2e-3, 2e-4, 1e-3, 5e-4])  # warm-up lr, x0.1, joint lr, x0.5
    assert all('kd' in r for r in rows)


def test_gan_pipeline_with_random_vgg(tmp_path):
    out = run(tmp_path, setting='gan', vgg_weights='random')
    m = metrics(out)
    assert list(m['results']) == ['samples Real-ESRGAN 0'] and m['kdsrnet_student'] is not None
    assert isinstance(load_model(out/'student.safetensors'), KDSRStudent) and (out/'student_net.safetensors').is_file()
    gan_rows = logged(out, 'gan')
    assert len(gan_rows) == 2 and {'l1', 'percep', 'gan', 'kd', 'l_d_real', 'l_d_fake'} <= set(gan_rows[-1])
    assert 'percep' not in logged(out, 'student')[-1]


@pytest.mark.parametrize('params, error, message', [
    (dict(setting='blind'), KeyError, r"setting='blind' is not known; expected one of: iso, aniso, gan"),
    (dict(gan_iters=3), KeyError, r"'gan_iters' is not a setting of this recipe"),
    (dict(setting='gan', vgg_weights='/nonexistent/vgg19.pth'), FileNotFoundError, r'vgg19-dcbb9e9d\.pth.*-p vgg_weights'),
    (dict(data='/nonexistent/hr'), FileNotFoundError, r"data='/nonexistent/hr' is neither a folder nor a known dataset"),
])
def test_bad_parameters(tmp_path, monkeypatch, params, error, message):
    "Run in this process (no kernel start): the notebook fails before training, naming the parameter."
    monkeypatch.chdir(NBS)
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    with pytest.raises(error, match=message):
        run_notebook(NBS/'train_kdsr.ipynb', {'preset': 'smoke', **params, 'out_dir': str(tmp_path)})


def test_teacher_of_another_scale_is_refused(iso_x4, tmp_path, monkeypatch):
    monkeypatch.chdir(NBS)
    with pytest.raises(ValueError, match=r'is a x4 KDSR teacher; scale=3 was asked'):
        run_notebook(NBS/'train_kdsr.ipynb', {'preset': 'smoke', 'scale': 3, 'teacher': str(iso_x4/'teacher.safetensors'),
                                             'out_dir': str(tmp_path)})
