"""kdsr_experiments.ipynb runs end to end with the smoke recipe, its parameters take effect, and it refuses the GAN setting."""
import csv, json
from pathlib import Path

import pytest
import papermill as pm

from srkd.checkpoints import load_model
from srkd.experiment import run_notebook
from test_train_kdsr import one_thread

NBS = Path(__file__).resolve().parents[1]/'nbs'


def metrics(out_dir): return json.loads((Path(out_dir)/'metrics.json').read_text())


def test_experiments_smoke_x3(tmp_path):
    with one_thread():
        pm.execute_notebook(str(NBS/'kdsr_experiments.ipynb'), str(tmp_path/'kdsr_experiments.ipynb'),
                            parameters=dict(preset='smoke', scale=3, out_dir=str(tmp_path)), cwd=str(NBS), progress_bar=False)
    m = metrics(tmp_path)
    assert (m['method'], m['scale'], m['preset'], m['setting']) == ('kdsr_experiments', 3, 'smoke', 'iso')
    assert list(m['columns']) == ['bicubic', 'teacher (sees HR)', 'student, undistilled', 'student, distilled', 'plain EDSR',
                                  'oracle code', 'constant code', 'oracle code, wrong code']
    assert all(list(col) == ['samples σ1.35', 'samples σ2.4'] for col in m['columns'].values())  # x3 test widths
    assert set(m['distillation']) == {'untrained', 'distilled', 'undistilled'} and m['baseline_iters'] == 8
    undistilled = metrics(tmp_path/'undistilled')
    assert undistilled['params']['kd_weight'] == 0 and undistilled['iters_done']['teacher'] is None  # distilled's teacher reused
    assert undistilled['params']['teacher'] == str(tmp_path/'distilled'/'teacher.safetensors')
    def student_log(run): return [json.loads(l) for l in open(tmp_path/run/'student'/'train.jsonl')]
    assert all('kd' in r for r in student_log('distilled')) and not any('kd' in r for r in student_log('undistilled'))
    assert load_model(tmp_path/'distilled'/'student.safetensors').scale == 3
    models = {r['model'] for r in csv.DictReader(open(tmp_path/'per_image.csv'))}
    assert models == {'plain EDSR', 'oracle code', 'constant code', 'oracle code, wrong code'}
    assert (tmp_path/'psnr_by_degradation.png').stat().st_size > 0


def test_experiments_refuse_the_gan_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(NBS)
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    with pytest.raises(ValueError, match="setting='gan': these experiments use the classic degradations"):
        run_notebook(NBS/'kdsr_experiments.ipynb', dict(preset='smoke', setting='gan', out_dir=str(tmp_path)))
