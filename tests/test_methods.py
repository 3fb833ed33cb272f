"""Every registered method, through the generic nbs/train.ipynb with its smoke preset: it runs at -p scale 3 (which
takes effect), a run stopped early resumes where it stopped instead of starting over, and an unknown preset or setting
is refused by name before anything is trained."""
import csv, json
from pathlib import Path

import pytest

from srkd.experiment import run_notebook
from srkd.methods import load_methods

NBS = Path(__file__).resolve().parents[1]/'nbs'
METHODS = sorted(load_methods())


def train(tmp, **params):
    return run_notebook(NBS/'train.ipynb', {'preset': 'smoke', 'device': 'cpu', **params, 'out_dir': str(tmp)})['record']


def log(folder): return [json.loads(l) for l in open(Path(folder)/'train.jsonl')]


def test_every_paper_registers_its_methods():
    assert {'scratch', 'fakd', 'student', 'kd', 'at', 'fitnet', 'kdsr', 'kdsr_aniso', 'kdsr_gan', 'dukd'} <= set(METHODS)


@pytest.mark.parametrize('method', METHODS)
def test_smoke_run_at_scale_3_resumes_after_a_stop(method, tmp_path, monkeypatch):
    monkeypatch.chdir(NBS)
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    first = train(tmp_path, method=method, scale=3, iters=1)            # stopped after one iteration of the last stage
    stages = [s['name'] for s in first['recipe']['stages']]
    last = tmp_path if len(stages) == 1 else tmp_path/stages[-1]
    assert [r['iter'] for r in log(last)] == [1]
    rec = train(tmp_path, method=method, scale=3)                       # the preset's length: continues from iteration 1
    planned = rec['recipe']['stages'][-1]['iters']
    assert planned > 1 and [r['iter'] for r in log(last)] == list(range(1, planned + 1))
    done = rec['iters_done'] if len(stages) == 1 else rec['iters_done'][stages[-1]]
    assert done == planned and rec['method'] == method and rec['scale'] == 3
    assert (rec['model_config'].get('upscale') or rec['model_config'].get('scale')) == 3
    rows = list(csv.DictReader(open(tmp_path/'per_image.csv')))
    assert rows and all(int(r['height']) % 3 == 0 and int(r['width']) % 3 == 0 for r in rows)
    assert {'bicubic', 'student' if method != 'scratch' else 'model'} <= {r['model'] for r in rows}
    assert rec['mean'] and all(v['psnr_y'] > 10 for v in rec['mean'].values())
    assert all((tmp_path/f).stat().st_size > 0 for f in ('crops.png', 'curves.png', 'metrics.json'))


@pytest.mark.parametrize('method', METHODS)
def test_unknown_preset_and_setting_are_refused(method, tmp_path, monkeypatch):
    monkeypatch.chdir(NBS)
    with pytest.raises(KeyError, match=r"preset='gpu' is not known.*; expected one of: smoke, cpu, paper"):
        train(tmp_path, method=method, preset='gpu')
    with pytest.raises(KeyError, match=r"'itres' is not a setting of this recipe \(did you mean 'iters'\?\)"):
        train(tmp_path, method=method, settings={'itres': 3})
    assert not any(tmp_path.iterdir())


def test_loading_the_papers_leaves_the_core_presets_alone():
    "Registering every method imports every paper module; the core's model presets are the same before and after."
    import subprocess, sys
    code = ("import copy, srkd.models as m; before = copy.deepcopy(m.MODEL_PRESETS); import srkd.methods as s; "
            "s.load_methods(); assert m.MODEL_PRESETS == before, set(m.MODEL_PRESETS) ^ set(before); print(len(s.METHODS))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 9


def test_a_misspelled_papermill_parameter_is_refused(tmp_path):
    "papermill only warns about `-p itres 3` and injects it; the run refuses it by name before training, with the closest one."
    import papermill as pm
    with pytest.raises(pm.PapermillExecutionError, match=r"train_sr\.ipynb has no parameter 'itres' \(did you mean 'iters'\?\)"):
        pm.execute_notebook(str(NBS/'train_sr.ipynb'), str(tmp_path/'out.ipynb'), cwd=str(NBS), progress_bar=False,
                            parameters={'preset': 'smoke', 'itres': 3, 'out_dir': str(tmp_path/'run')})
    assert not (tmp_path/'run').exists()


def test_srkd_run_refuses_a_misspelled_parameter(tmp_path):
    with pytest.raises(KeyError, match=r"has no parameter 'itres' \(did you mean 'iters'\?\)"):
        run_notebook(NBS/'train_sr.ipynb', {'preset': 'smoke', 'itres': 3, 'out_dir': str(tmp_path)})
