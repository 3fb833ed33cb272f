"""Repository-level checks: notebooks clean and runnable by papermill, package in sync with them, docs buildable."""
import ast, json, os, re, shutil, subprocess, sys
from pathlib import Path

import pytest
from execnb.nbio import read_nb, nb2str
from nbdev.clean import clean_nb
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT/'nbs').glob('*.ipynb'))
CHAPTERS = [nb for nb in NOTEBOOKS if '#| default_exp' in nb.read_text()]
ENTRY_POINTS = [nb for nb in NOTEBOOKS if nb not in CHAPTERS and nb.name != 'index.ipynb']  # run by papermill


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(nb):
    "Committed notebooks are exactly what `nbdev_clean` leaves, so diffs stay readable."
    cfg = get_config(path=ROOT)
    original = nb.read_text(encoding='utf-8')
    cleaned = read_nb(nb)
    clean_nb(cleaned, cfg.clear_all, cfg.get('allowed_metadata_keys').split(),
             cfg.get('allowed_cell_metadata_keys').split(), cfg.clean_ids)
    assert nb2str(cleaned) == original, f'{nb.name} is not clean: run `make clean-nbs`'


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.name)
def test_python3_kernelspec(nb):
    assert json.loads(nb.read_text())['metadata']['kernelspec']['name'] == 'python3', nb.name


def test_entry_points_found():
    assert {'train_sr.ipynb', 'evaluate.ipynb', 'train_fakd.ipynb', 'train_kdsr.ipynb', 'train_dukd.ipynb', 'bench.ipynb'} <= {nb.name for nb in ENTRY_POINTS}


@pytest.mark.parametrize('nb', ENTRY_POINTS, ids=lambda p: p.name)
def test_entry_point_skipped_by_nbdev_test(nb):
    "Papermill notebooks are tested through pytest with their smoke presets, not by nbdev_test with their defaults."
    from nbdev.processors import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    assert NBProcessor(nb, procs=FrontmatterProc, process=True).nb.frontmatter_.get('skip_exec') is True, nb.name


@pytest.mark.parametrize('nb', ENTRY_POINTS, ids=lambda p: p.name)
def test_papermill_parameters_cell(nb):
    "Without a cell tagged `parameters`, `papermill -p` would be silently ignored."
    cells = json.loads(nb.read_text())['cells']
    tagged = [c for c in cells if 'parameters' in c.get('metadata', {}).get('tags', [])]
    assert len(tagged) == 1, f'{nb.name}: expected one cell tagged "parameters", found {len(tagged)}'


@pytest.mark.parametrize('nb', CHAPTERS, ids=lambda p: p.name)
def test_imports_in_their_own_cells(nb):
    """The docs build re-executes every cell that contains an import (nbdev's `exec_show_docs`), alone, without the
    cells around it: a cell mixing imports with other code would run out of context there, so chapters keep imports
    in import-only cells."""
    bad = []
    for i, cell in enumerate(json.loads(nb.read_text())['cells']):
        src = ''.join(cell['source'])
        if cell['cell_type'] != 'code' or any(re.match(r'#\|\s*export', l) for l in src.splitlines()): continue
        code = '\n'.join(l for l in src.splitlines() if not l.startswith(('#|', '%', '!')))
        if code.strip() == 'import nbdev; nbdev.nbdev_export()': continue  # the closing export cell, not a cell that mentions it
        tree = ast.parse(code)
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        if imports and len(imports) != len(tree.body): bad.append(f'cell {i}: {src.splitlines()[0][:60]!r}')
    assert not bad, f'{nb.name}: cells mixing imports with other code (move the imports to a cell of their own): {bad}'


@pytest.mark.parametrize('nb', CHAPTERS, ids=lambda p: p.name)
def test_no_cell_silently_skipped(nb):
    "nbdev_test skips every cell whose text contains `nbdev_export(`: only the closing export cell may."
    cells = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
    skipped = [src.splitlines()[0][:60] for src in cells[:-1] if 'nbdev_export' + '(' in src]
    assert not skipped, f'{nb.name}: nbdev_test would skip these cells: {skipped}'


def test_settings_keep_papermill_tags():
    cfg = get_config(path=ROOT)
    assert 'tags' in cfg.get('allowed_cell_metadata_keys').split()
    assert cfg.get('tst_flags').split() == ['slow', 'gpu']


def test_package_in_sync_with_notebooks(tmp_path):
    "Exporting the committed notebooks reproduces the committed package byte for byte."
    for name in ('nbs', 'srkd'): shutil.copytree(ROOT/name, tmp_path/name, symlinks=True)
    for name in ('settings.ini', 'setup.py', 'README.md'): shutil.copy(ROOT/name, tmp_path/name)
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}
    subprocess.run([str(Path(sys.executable).parent/'nbdev_export')], cwd=tmp_path, env=env, check=True)
    exported = {p.relative_to(tmp_path/'srkd'): p.read_text() for p in (tmp_path/'srkd').rglob('*.py')}
    committed = {p.relative_to(ROOT/'srkd'): p.read_text() for p in (ROOT/'srkd').rglob('*.py')}
    assert exported.keys() == committed.keys(), f'module sets differ: {set(exported) ^ set(committed)}'
    stale = [str(k) for k in exported if exported[k] != committed[k]]
    assert not stale, f'srkd/ is out of sync with nbs/ for {stale}: run `make export`'


def test_docs_build_up_to_render():
    "Everything `nbdev_docs` does before `quarto render` (see the site chapter)."
    from srkd.site import check_site
    pages = check_site(ROOT)
    assert 'results.qmd' in pages and 'index.ipynb' in pages


TRACKED = [ROOT/p for p in subprocess.run(['git', 'ls-files', 'nbs', 'srkd', 'tests', 'data', 'README.md'], cwd=ROOT,
                                          capture_output=True, text=True, check=True).stdout.split()]
TEXT_FILES = [p for p in TRACKED if p.suffix in {'.ipynb', '.py', '.md', '.json', '.csv', '.yml', '.qmd'} and p.is_file()]


def _hits(pattern):
    rx = re.compile(pattern)
    return [f'{p.relative_to(ROOT)}:{i}' for p in TEXT_FILES if p.name != 'test_repository.py'
            for i, line in enumerate(p.read_text(encoding='utf-8', errors='replace').splitlines(), 1) if rx.search(line)]


def test_no_internal_note_citations():
    "The repository stands on its own: chapters cite the paper and owner/repo@commit:path, not the project's notes."
    hits = _hits(r'specs/[a-z]+\.md|spec ' + '\u00a7' + r'|\.\./shared/')
    assert not hits, f'citations of internal notes (cite the paper or the official code instead): {hits[:10]}'


def test_no_absolute_machine_paths():
    "Committed records and chapters hold paths relative to the repository, never this machine's."
    hits = _hits('/' + 'work/|/' + 'root/|/' + 'home/')
    assert not hits, f'absolute machine paths in committed files: {hits[:10]}'


def _workflow(name):
    import yaml
    wf = yaml.safe_load((ROOT/'.github'/'workflows'/name).read_text())
    wf['on'] = wf.pop(True, wf.get('on'))  # YAML 1.1 reads the key `on` as true
    steps = [s for job in wf['jobs'].values() for s in job.get('steps', [])]
    return wf, steps, [s.get('run', '') for s in steps], [s.get('uses', '').split('@')[0] for s in steps]


def test_workflow_test_runs_make_test():
    "The test workflow is `make test` on every push and pull request, with the Makefile's torch pin from the CPU index."
    wf, steps, runs, uses = _workflow('test.yaml')
    assert {'push', 'pull_request'} <= set(wf['on']), wf['on']
    assert any(re.search(r'(^|\s)make test(\s|$)', r) for r in runs), runs
    pin = re.search(r'^TORCH_PIN \?= (.+)$', (ROOT/'Makefile').read_text(), re.M)[1].strip()
    env = {**wf.get('env', {}), **{k: v for job in wf['jobs'].values() for k, v in job.get('env', {}).items()}}
    assert env.get('TORCH_PIN', '').split()[:1] == [pin] and '--index-url https://download.pytorch.org/whl/cpu' in env['TORCH_PIN'], env


def test_workflow_deploy_pins_quarto_and_publishes():
    "The deploy workflow installs a fixed Quarto release, builds the site as `make docs` does and deploys _docs to Pages."
    wf, steps, runs, uses = _workflow('deploy.yaml')
    assert 'main' in wf['on']['push']['branches'], wf['on']
    setup = [s for s in steps if s.get('uses', '').startswith('quarto-dev/quarto-actions/setup@')]
    debs = [r for r in runs if re.search(r'quarto-\d+\.\d+\.\d+-linux-amd64\.deb', r)]
    assert setup or debs, 'no Quarto installation step'
    for s in setup: assert re.fullmatch(r'\d+\.\d+\.\d+', str(s.get('with', {}).get('version', ''))), f'Quarto not pinned: {s}'
    order = [next(i for i, r in enumerate(runs) if re.search(rf'(^|\s)make {t}(\s|$)', r)) for t in ('outputs', 'docs')]
    assert order == sorted(order), 'make outputs must run before make docs'
    upload = [s for s in steps if s.get('uses', '').startswith('actions/upload-pages-artifact@')]
    assert upload and upload[0]['with']['path'].strip('./') == get_config(path=ROOT).doc_path.name, upload
    assert 'actions/deploy-pages' in uses
    assert wf['permissions'].get('pages') == 'write' and wf['permissions'].get('id-token') == 'write', wf['permissions']


def test_sidebar_is_hand_written_and_tracked_by_the_site_check():
    "settings.ini leaves the sidebar to nbs/sidebar.yml, and that file lists every page (see `srkd.site.sidebar_problems`)."
    from srkd.site import sidebar_problems
    assert str(get_config(path=ROOT).get('custom_sidebar')).lower() == 'true'
    assert sidebar_problems(ROOT/'nbs') == []


PAIRED = [nb for nb in ENTRY_POINTS if nb.name != 'results.qmd.py']


@pytest.mark.parametrize('nb', PAIRED, ids=lambda p: p.name)
def test_run_notebook_paired_with_its_script(nb):
    """Each run notebook is paired (jupytext) with scripts/<name>.py, so that its code reviews as a diff and runs as a
    script; the pair must hold the same cells (`make sync` brings a changed side's twin up to date)."""
    import jupytext
    fmt = json.loads(nb.read_text())['metadata'].get('jupytext', {})
    assert fmt.get('formats') == 'ipynb,../scripts//py:percent', f'{nb.name} is not paired: run `make sync`'
    script = ROOT/'scripts'/f'{nb.stem}.py'
    assert script.is_file(), f'{script.relative_to(ROOT)} is missing: run `make sync`'
    assert jupytext.writes(jupytext.read(nb), fmt='py:percent') == script.read_text(), \
        f'{nb.name} and {script.relative_to(ROOT)} differ: edit one, then run `make sync`'
