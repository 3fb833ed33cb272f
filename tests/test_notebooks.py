"""The papermill entry points run end to end with smoke-sized parameters, and their parameters take effect."""
import csv, json, re
from pathlib import Path

import pytest
import papermill as pm

NBS = Path(__file__).resolve().parents[1]/'nbs'


def run(notebook, out_dir, **params):
    out_dir = Path(out_dir); out_dir.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(NBS/notebook), str(out_dir/notebook), parameters={**params, 'out_dir': str(out_dir)},
                        cwd=str(NBS), progress_bar=False)
    return out_dir


def metrics(out_dir): return json.loads((Path(out_dir)/'metrics.json').read_text())


@pytest.fixture(scope='module')
def sr_x3(tmp_path_factory):
    "A smoke-sized x3 training run; `-p scale 3 -p iters 4` must give a x3 model trained for 4 iterations."
    return run('train_sr.ipynb', tmp_path_factory.mktemp('sr_x3'), preset='smoke', scale=3, iters=4)


def test_train_sr_parameters_take_effect(sr_x3):
    m = metrics(sr_x3)
    assert (m['scale'], m['preset'], m['params']['iters'], m['iters_done']) == (3, 'smoke', 4, 4)
    assert m['model_config']['upscale'] == 3 and m['recipe']['stages'][0]['iters'] == 4
    assert [json.loads(l)['iter'] for l in open(sr_x3/'train.jsonl')] == [1, 2, 3, 4]
    rows = list(csv.DictReader(open(sr_x3/'per_image.csv')))
    assert {r['image'] for r in rows} == {'chelsea', 'coffee'}
    assert all(int(r['height']) % 3 == 0 and int(r['width']) % 3 == 0 for r in rows)  # HR mod-cropped to x3
    assert (sr_x3/'crops.png').stat().st_size > 0 and (sr_x3/'model.safetensors').stat().st_size > 0
    assert '-p scale 3' in m['command'] and '-p iters 4' in m['command']


def test_train_sr_resumes(sr_x3):
    "Started again with more iterations, the run continues from its state instead of starting over."
    run('train_sr.ipynb', sr_x3, preset='smoke', scale=3, iters=6)
    assert [json.loads(l)['iter'] for l in open(sr_x3/'train.jsonl')] == [1, 2, 3, 4, 5, 6]
    assert metrics(sr_x3)['iters_done'] == 6


def test_train_sr_amp_takes_effect(sr_x3, tmp_path):
    "`-p amp True` runs the forward in bf16: the first step's loss moves off the float32 run's (same seed and batch), a little."
    first = lambda d: json.loads(open(d/'train.jsonl').readline())
    bf16 = run('train_sr.ipynb', tmp_path, preset='smoke', scale=3, iters=1, amp=True)
    assert metrics(bf16)['params']['amp'] is True and metrics(sr_x3)['params']['amp'] is False
    a, b = first(bf16)['l1'], first(sr_x3)['l1']
    assert a != b and abs(a - b) < 0.05 * b, (a, b)


def test_evaluate_checkpoint_and_bicubic(sr_x3, tmp_path):
    "The scale comes from an srkd checkpoint (no -p scale); a classic model is scored on bicubic LR."
    m = metrics(run('evaluate.ipynb', tmp_path/'model', checkpoint=str(sr_x3/'model.safetensors')))
    assert m['scale'] == 3 and m['results']['samples']['n_images'] == 2 and m['num_params'] > 0
    assert (m['params']['degradation'], m['trained_by']) == ('bicubic', 'scratch') and '-p degradation bicubic' in m['command']
    trained = metrics(sr_x3)['results']['samples']  # the saved weights score what the training run scored before saving
    assert all(abs(m['results']['samples'][k] - trained[k]) < 1e-6 for k in ('psnr_y', 'ssim_y', 'psnr_rgb')), (m['results'], trained)
    b = metrics(run('evaluate.ipynb', tmp_path/'bicubic', scale=3))['results']['samples']
    assert abs(b['psnr_y'] - 30.649) < 1e-3 and abs(b['ssim_y'] - 0.8338) < 1e-4  # the metrics chapter's bicubic x3


def test_evaluate_refuses_a_checkpoint_of_another_scale(sr_x3, tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match=r'is a x3 EDSR; scale=2 was asked') as e:
        run('evaluate.ipynb', tmp_path, checkpoint=str(sr_x3/'model.safetensors'), scale=2)
    plain = [re.sub(r'\x1b\[[0-9;]*m', '', line).strip() for line in e.value.traceback]
    assert plain == [f"ValueError: {e.value.evalue}"]  # the cell's error is its one-line message, not a traceback


@pytest.mark.parametrize('params, message', [
    (dict(), r"scale=None: bicubic needs the scale"),
    (dict(checkpoint='nothing.safetensors'), r"checkpoint='.*nothing.safetensors' is not a file"),
    (dict(scale=2, degradation='jpeg'), r"degradation='jpeg'; expected one of bicubic, iso, aniso, gan, realesrgan"),
])
def test_evaluate_bad_parameters(tmp_path, params, message):
    with pytest.raises(pm.PapermillExecutionError, match=message):
        run('evaluate.ipynb', tmp_path, **params)


def test_evaluate_degradation_takes_effect(tmp_path):
    m = metrics(run('evaluate.ipynb', tmp_path, scale=2, degradation='realesrgan', seed=3))
    assert list(m['results']) == ['samples Real-ESRGAN 3'] and '-p seed 3' in m['command']
    assert m['results']['samples Real-ESRGAN 3']['psnr_y'] < 30.  # far below bicubic on clean bicubic LR (about 33 dB)


def test_evaluate_lpips_and_niqe_take_effect(tmp_path):
    "`-p lpips_weights DIR` adds LPIPS (the weights given), `-p niqe True` NIQE, per image and per set; a missing file is one line."
    from srkd.iqa import seeded_lpips_files
    weights = seeded_lpips_files('vgg', tmp_path/'weights')
    m = metrics(run('evaluate.ipynb', tmp_path/'iqa', scale=2, lpips_weights=str(weights), lpips_net='vgg', niqe=True))
    r = m['results']['samples']
    assert 0 < r['lpips'] < 1 and 2 < r['niqe'] < 20 and m['params']['lpips_net'] == 'vgg' and '-p niqe True' in m['command']
    rows = list(csv.DictReader(open(tmp_path/'iqa'/'per_image.csv')))
    assert all(float(row['lpips']) > 0 and float(row['niqe']) > 0 for row in rows) and len(rows) == 2
    assert 'lpips' not in metrics(run('evaluate.ipynb', tmp_path/'plain', scale=2))['results']['samples']
    with pytest.raises(pm.PapermillExecutionError, match=r"LPIPS\('alex'\): missing .*alexnet-owt-7be5be79.pth") as e:
        run('evaluate.ipynb', tmp_path/'missing', scale=2, lpips_weights=str(weights))
    assert len(e.value.traceback) == 1


@pytest.mark.parametrize('params, message', [
    (dict(preset='gpu'), r"preset='gpu' is not known.*; expected one of: smoke, cpu, paper"),
    (dict(preset='smoke', data='/nonexistent/hr'), r"data='/nonexistent/hr' is neither a folder nor a known dataset"),
    (dict(preset='smoke', model='edsr_huge'), r"unknown model preset 'edsr_huge'"),
])
def test_train_sr_bad_parameters(tmp_path, params, message):
    with pytest.raises(pm.PapermillExecutionError, match=message):
        run('train_sr.ipynb', tmp_path, **params)


def test_torchrun_two_processes_match_one(tmp_path):
    "`torchrun ... srkd_run nbs/train_sr.ipynb`: two CPU processes (gloo) train the same model as one process."
    import subprocess, sys
    bin_dir = Path(sys.executable).parent
    common = [str(bin_dir/'srkd_run'), str(NBS/'train_sr.ipynb'), '-p', 'preset', 'smoke', '-p', 'iters', '4', '-p', 'device', 'cpu']
    subprocess.run([sys.executable, *common, '-p', 'out_dir', str(tmp_path/'one')], check=True, capture_output=True)
    subprocess.run([str(bin_dir/'torchrun'), '--nproc_per_node', '2', '--master_port', '29517', *common,
                    '-p', 'out_dir', str(tmp_path/'two')], check=True, capture_output=True)
    one, two = metrics(tmp_path/'one')['results']['samples'], metrics(tmp_path/'two')['results']['samples']
    assert abs(one['psnr_y'] - two['psnr_y']) < 1e-3 and abs(one['ssim_y'] - two['ssim_y']) < 1e-5, (one, two)
    assert [json.loads(l)['iter'] for l in open(tmp_path/'two'/'train.jsonl')] == [1, 2, 3, 4]  # rank 0 logs once
