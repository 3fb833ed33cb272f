"""Running a training notebook with papermill in the tests, and reading what it wrote."""
import json, os
from contextlib import contextmanager
from pathlib import Path

import papermill as pm

NBS = Path(__file__).resolve().parents[1]/'nbs'


@contextmanager
def one_thread():
    "Kernels started inside run one torch thread: the tiny models gain nothing from a second one, which only spins on a busy machine."
    old = os.environ.get('OMP_NUM_THREADS')
    os.environ['OMP_NUM_THREADS'] = '1'
    try: yield
    finally:
        if old is None: del os.environ['OMP_NUM_THREADS']
        else: os.environ['OMP_NUM_THREADS'] = old


def execute(notebook:str, out_dir, params:dict, single_thread:bool=False) -> Path:
    "Run nbs/`notebook` with `params` (and `out_dir`), its output notebook saved in `out_dir`; return `out_dir`."
    out_dir = Path(out_dir); out_dir.mkdir(parents=True, exist_ok=True)
    def go(): pm.execute_notebook(str(NBS/notebook), str(out_dir/notebook), parameters={**params, 'out_dir': str(out_dir)},
                                  cwd=str(NBS), progress_bar=False)
    if single_thread:
        with one_thread(): go()
    else: go()
    return out_dir


def record_and_log(out_dir) -> tuple[dict, list[dict]]:
    "The run's metrics.json and its train.jsonl rows."
    out_dir = Path(out_dir)
    return json.loads((out_dir/'metrics.json').read_text()), [json.loads(l) for l in open(out_dir/'train.jsonl')]
