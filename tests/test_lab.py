"""`make lab`'s JupyterLab: started with lab/jupyter_server_config.py, it saves notebooks clean (nbdev_clean's result)."""
import json, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JUPYTER = Path(sys.executable).parent/'jupyter'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "JupyterLab on a copy of the project (settings.ini and two notebooks), on 127.0.0.1, token off."
    root = tmp_path_factory.mktemp('project')
    shutil.copy(ROOT/'settings.ini', root)
    (root/'nbs').mkdir()
    for nb in ('02_metrics.ipynb', 'evaluate.ipynb'): shutil.copy(ROOT/'nbs'/nb, root/'nbs')
    port = free_port()
    cmd = [str(JUPYTER), 'lab', f"--config={ROOT/'lab'/'jupyter_server_config.py'}", f"--ServerApp.root_dir={root/'nbs'}",
           '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}', '--IdentityProvider.token=',
           '--ServerApp.disable_check_xsrf=True'] + (['--allow-root'] if os.geteuid() == 0 else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f'http://127.0.0.1:{port}'
    for _ in range(300):
        try:
            urllib.request.urlopen(base + '/api/status', timeout=1)
            break
        except OSError:
            if proc.poll() is not None: pytest.fail(f'jupyter lab exited: {proc.stdout.read()[-2000:]}')
            time.sleep(0.2)
    else: pytest.fail('jupyter lab did not answer within a minute')
    yield base, root/'nbs'
    proc.terminate()
    proc.communicate(timeout=30)


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
