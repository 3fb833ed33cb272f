"""The benchmark notebook runs end to end with its smoke preset: its record is complete and self-consistent, and its
parameters take effect. No timing is asserted (the machine is shared): only relations between the stored numbers."""
import json
from pathlib import Path

import numpy as np
import pytest
import papermill as pm

NBS = Path(__file__).resolve().parents[1]/'nbs'
PARTS = {'student_step', 'teacher_forward', 'kd_step', 'at_step', 'fakd_step', 'kd_terms', 'at_terms', 'fakd_terms'}


def run(out_dir, **params):
    out_dir = Path(out_dir); out_dir.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(NBS/'bench.ipynb'), str(out_dir/'bench.ipynb'), parameters={**params, 'out_dir': str(out_dir)},
                        cwd=str(NBS), progress_bar=False)
    return out_dir


@pytest.fixture(scope='module')
def out(tmp_path_factory):
    "The smoke preset with `timed` and `models` changed from the recipe's (2 and edsr_tiny,rcan_tiny_s)."
    return run(tmp_path_factory.mktemp('bench'), preset='smoke', timed=3, models='rcan_tiny_s', threads=1)


@pytest.fixture(scope='module')
def bench(out): return json.loads((out/'bench.json').read_text())


def test_parameters_take_effect(bench, out):
    r = bench['recipe']
    assert (r['timed'], r['models'], bench['params']['timed'], bench['environment']['threads']) == (3, ['rcan_tiny_s'], 3, 1)
    assert [t['model'] for t in bench['throughput']] == ['rcan_tiny_s']
    n = r['timed'] * r['repeats']
    assert all(t['step_ms']['n'] == n for t in bench['throughput'])
    assert set(bench['distill']['parts']) == PARTS and all(p['n'] == n for p in bench['distill']['parts'].values())
    assert all(len(v) == r['repeats'] for v in bench['distill']['ratio_per_repeat'].values())
    assert '-p timed 3' in bench['command'] and "-p models rcan_tiny_s" in bench['command']
    assert (out/'bench.png').stat().st_size > 0


def check_stats(s):
    "The stored summary is that of the stored samples."
    x = np.array(s['samples'])
    assert len(x) == s['n'] and (x > 0).all()
    assert np.allclose(np.percentile(x, [25, 50, 75]), [s['q1'], s['median'], s['q3']], rtol=1e-12)
    assert s['minor_faults'] >= 0


def test_throughput(bench):
    for t in bench['throughput']:
        check_stats(t['step_ms'])
        s = t['step_ms']
        assert t['images_per_s'] > 0 and t['images_per_s'] == pytest.approx(t['bs'] * 1e3 / s['median'], rel=1e-12)
        assert t['images_per_s_iqr'] == pytest.approx([t['bs'] * 1e3 / s['q3'], t['bs'] * 1e3 / s['q1']], rel=1e-12)
        assert t['num_params'] > 0 and t['bs'] == bench['recipe']['bs']


def test_distill_ratio_is_computed_from_its_parts(bench):
    d = bench['distill']
    med = {k: v['median'] for k, v in d['parts'].items()}
    for v in d['parts'].values(): check_stats(v)
    ab = med['student_step'] + med['teacher_forward']
    for m in ('kd', 'at', 'fakd'):
        assert d['ratio'][m] == pytest.approx(med[f'{m}_step'] / ab, rel=1e-12)
        o = d['overhead_ms'][m]
        assert o['total'] == pytest.approx(med[f'{m}_step'] - ab, rel=1e-9, abs=1e-9)
        assert o['kd_terms'] == med[f'{m}_terms'] and o['rest'] == pytest.approx(o['total'] - o['kd_terms'], rel=1e-9, abs=1e-9)
    assert bench['results']['distill_ratio'] == d['ratio']
    assert (d['teacher'], d['student'], d['bs'], d['patch_size']) == ('rcan_tiny_t', 'rcan_tiny_s', 2, 12)
    assert len(d['taps']) == 3  # FAKD's three feature taps, on both RCANs


def test_tiled_peak_below_whole_image(bench):
    t = bench['tiled']
    largest = max(row['lr_size'] for row in t['rows'])
    rows = {row['tile']: row for row in t['rows'] if row['lr_size'] == largest}
    assert None in rows and len(rows) > 1
    for tile, row in rows.items():
        assert row['peak_mib'] > 0 and row['seconds'] > 0
        assert row['output_mib'] == 3 * (largest * t['scale'])**2 * 4 / 2**20
        if tile is not None:
            assert row['window'] == min(largest, tile + 2 * t['overlap'])
            assert row['peak_mib'] < rows[None]['peak_mib']


@pytest.mark.parametrize('params, message', [
    (dict(preset='gpu'), r"preset='gpu' is not known \(did you mean 'cpu'\?\); expected one of: smoke, cpu, paper"),
    (dict(preset='smoke', timed=0), r"timed=0: expected an int >= 1"),
    (dict(preset='smoke', teacher_dtype='int8'), r"teacher_dtype='int8': expected one of"),
])
def test_bad_parameters(tmp_path, params, message):
    with pytest.raises(pm.PapermillExecutionError, match=message):
        run(tmp_path, **params)


def test_loop_overhead_is_computed_from_its_samples(bench):
    "One srkd-loop and one bare-loop summary per model of the recipe, every repeat of both, and the ratio of their medians."
    r, loop = bench['recipe'], bench['loop']
    assert list(loop) == r['loop_models'] and bench['results']['loop_overhead'] == {m: v['ratio'] for m, v in loop.items()}
    for v in loop.values():
        for part in ('srkd_ms', 'bare_ms'):
            check_stats(v[part]); assert v[part]['n'] == r['timed'] * r['repeats']
        assert v['ratio'] == pytest.approx(v['srkd_ms']['median'] / v['bare_ms']['median'], rel=1e-12)
        assert len(v['ratio_per_repeat']) == r['repeats'] and all(x > 0 for x in v['ratio_per_repeat'])
