"""`make lab`'s JupyterLab: started with lab/jupyter_server_config.py, it saves notebooks clean (nbdev_clean's result)."""
import json, sys, urllib.request

import pytest

from labserver import JUPYTER, project_copy, running_lab


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "JupyterLab on a copy of the project (settings.ini and two notebooks)."
    nbs = project_copy(tmp_path_factory.mktemp('project'), ['02_metrics.ipynb', 'evaluate.ipynb'])
    with running_lab(nbs) as base: yield base, nbs


def api(base, path, method='GET', body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req) as r: return json.loads(r.read() or 'null')


@pytest.mark.parametrize('name', ['02_metrics.ipynb', 'evaluate.ipynb'])
def test_saving_from_jupyterlab_keeps_the_notebook_clean(lab, name):
    "What JupyterLab adds when a notebook is run and saved (execution counts, language_info, cell timing) is cleaned away."
    base, nbs = lab
    before = (nbs/name).read_bytes()
    nb = api(base, f'/api/contents/{name}?content=1')['content']
    nb['metadata']['language_info'] = {'name': 'python', 'version': '3.11.7'}
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] == 'code':
            c['execution_count'] = i + 1
            c['metadata']['execution'] = {'iopub.status.busy': '2026-12-04T12:00:00.000Z'}
    api(base, f'/api/contents/{name}', 'PUT', {'type': 'notebook', 'format': 'json', 'content': nb})
    assert (nbs/name).read_bytes() == before, f'{name} changed on save: the pre-save hook did not clean it'


def test_lab_kernel_is_the_projects_python(lab):
    "The default kernel runs the venv's Python (the one srkd is installed in), not some other Jupyter's."
    base, _ = lab
    spec = api(base, '/api/kernelspecs')
    argv = spec['kernelspecs'][spec['default']]['spec']['argv']
    # 'python' is the server's own interpreter (jupyter_client launches it as sys.executable): the venv's, as its script says
    assert spec['default'] == 'python3' and argv[0] in ('python', 'python3', sys.executable), argv
    assert sys.executable in JUPYTER.read_text()[:1000]  # its launcher names this interpreter (a shebang, or pip's sh wrapper)
