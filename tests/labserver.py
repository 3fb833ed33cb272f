"""Start `make lab`'s JupyterLab (lab/jupyter_server_config.py) on 127.0.0.1, token off, for the tests."""
import contextlib, json, os, socket, subprocess, sys, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JUPYTER = Path(sys.executable).parent/'jupyter'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def project_copy(root:Path, notebooks:list) -> Path:
    "A minimal copy of the project under `root` (settings.ini, the given notebooks in nbs/); returns its nbs/."
    import shutil
    (root/'nbs').mkdir(parents=True)
    shutil.copy(ROOT/'settings.ini', root)
    for nb in notebooks: shutil.copy(ROOT/'nbs'/nb, root/'nbs')
    return root/'nbs'


@contextlib.contextmanager
def running_lab(root_dir:Path, timeout:float=60., settings:dict|None=None):
    """Yield the base URL of a JupyterLab serving `root_dir` with the project's config; stop it afterwards.
    `settings`: {'@jupyterlab/notebook-extension:tracker': {...}, ...}, user settings in a folder beside `root_dir`."""
    port = free_port()
    extra = []
    if settings:
        user = Path(root_dir).parent/'lab_user_settings'
        for key, value in settings.items():
            ext, plugin = key.split(':')
            (user/ext).mkdir(parents=True, exist_ok=True)
            (user/ext/f'{plugin}.jupyterlab-settings').write_text(json.dumps(value))
        extra = [f'--LabApp.user_settings_dir={user}']
    cmd = [str(JUPYTER), 'lab', f"--config={ROOT/'lab'/'jupyter_server_config.py'}", f'--ServerApp.root_dir={root_dir}',
           '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}', '--IdentityProvider.token=',
           '--ServerApp.disable_check_xsrf=True', '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'] \
          + (['--allow-root'] if os.geteuid() == 0 else []) + extra
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base, t0 = f'http://127.0.0.1:{port}', time.time()
    try:
        while True:
            try:
                urllib.request.urlopen(base + '/api/status', timeout=1)
                break
            except OSError:
                if proc.poll() is not None: raise RuntimeError(f'jupyter lab exited: {proc.stdout.read()[-2000:]}')
                if time.time() - t0 > timeout: raise RuntimeError(f'jupyter lab did not answer within {timeout:.0f} s')
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
