"""JupyterLab in a real browser (headless Chromium driven by selenium): a chapter and the evaluate notebook run to the
end without an error, and the comparison widget renders and follows a click. Run by `make test-browser` (which
installs Debian's chromium and chromium-driver and selenium); skipped by `make test`."""
import json, os, shutil, time
from pathlib import Path

import pytest

from labserver import ROOT, project_copy, running_lab

pytestmark = pytest.mark.skipif(os.environ.get('SRKD_BROWSER_TESTS') != '1', reason='browser tests: make test-browser')
SHOTS = Path(os.environ.get('SRKD_SCREENSHOTS') or ROOT/'runs'/'browser')
SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    "JupyterLab on a copy of two notebooks, and a headless Chromium on it."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    root = tmp_path_factory.mktemp('project')
    project_copy(root, ['06c_compare.ipynb'])
    nb = json.loads((ROOT/'nbs'/'evaluate.ipynb').read_text())  # as papermill would: -p scale 2 -p out_dir <tmp>
    cell = next(c for c in nb['cells'] if 'parameters' in c['metadata'].get('tags', []))
    cell['source'] += ['\n', 'scale = 2\n', f"out_dir = {str(root/'eval')!r}"]
    (root/'nbs'/'evaluate.ipynb').write_text(json.dumps(nb))
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,1000',
              '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
              f"--user-data-dir={root/'chrome'}"):
        opts.add_argument(a)
    settings = {'@jupyterlab/notebook-extension:tracker': {'windowingMode': 'none'},  # every cell in the page, to be read
                '@jupyterlab/apputils-extension:notification': {'fetchNews': 'false'}}
    with running_lab(root/'nbs', settings=settings) as base:
        driver = webdriver.Chrome(service=Service(shutil.which('chromedriver') or '/usr/bin/chromedriver'), options=opts)
        try: yield driver, base
        finally: driver.quit()


def wait(driver, css, timeout=120, text=None):
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import StaleElementReferenceException
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            els = [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed() and (text is None or text in e.text)]
            if els: return els
        except StaleElementReferenceException: pass  # the page changed under us: look again
        time.sleep(0.5)
    raise AssertionError(f'nothing matching {css!r}' + (f' with text {text!r}' if text else '') + f' within {timeout} s')


def run_all(driver, base, name, timeout=300):
    "Open `name`, run all cells from the Run menu, wait until every code cell has run; return the error outputs' texts."
    n_code = sum(c['cell_type'] == 'code' for c in json.loads((ROOT/'nbs'/name).read_text())['cells'])
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    driver.get(f'{base}/lab/tree/{name}')
    wait(driver, '.jp-Notebook .jp-Cell')
    wait(driver, '.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120)
    wait(driver, '.lm-MenuBar-itemLabel', text='Run')[0].click()
    wait(driver, '.lm-Menu-itemLabel', text='Run All Cells')[0].click()
    time.sleep(2)
    t0 = time.time()
    errors = lambda: [e.text for e in driver.find_elements(By.CSS_SELECTOR, '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                      if 'Traceback' in e.text or 'Error' in e.text]
    while time.time() - t0 < timeout:
        try:
            prompts = [e.text.strip() for e in driver.find_elements(By.CSS_SELECTOR, '.jp-Cell.jp-CodeCell .jp-InputArea-prompt')]
            if errors(): break  # Run All stops at an error: the cells after it stay unrun
        except StaleElementReferenceException: prompts = ['[*]:']
        numbered = [p for p in prompts if p.startswith('[') and p[1:-2].isdigit()]
        if len(numbered) >= n_code and not any('*' in p for p in prompts): break
        time.sleep(1)
    else:
        driver.save_screenshot(str(SHOTS/f'{name}.timeout.png'))
        raise AssertionError(f'{name}: cells still running after {timeout} s; prompts {prompts}')
    return errors()


def test_chapter_runs_and_the_widget_follows_a_click(browser):
    from selenium.webdriver.common.by import By
    driver, base = browser
    errors = run_all(driver, base, '06c_compare.ipynb')
    assert not errors, errors
    scores = wait(driver, '.widget-html-content', text='edsr (untrained)')[-1]
    before = scores.text
    button = [b for b in driver.find_elements(By.CSS_SELECTOR, '.widget-toggle-button') if b.text == 'bicubic'][0]  # 'view'
    driver.execute_script('arguments[0].scrollIntoView({block: "center"});', button)
    time.sleep(1)
    driver.save_screenshot(str(SHOTS/'compare_widget.png'))
    button.click()
    t0 = time.time()
    while 'bicubic' not in scores.text and time.time() - t0 < 30: time.sleep(0.5)
    assert 'bicubic' in scores.text and scores.text != before, (before, scores.text)
    driver.save_screenshot(str(SHOTS/'compare_widget_bicubic.png'))


def test_evaluate_notebook_runs(browser):
    driver, base = browser
    errors = run_all(driver, base, 'evaluate.ipynb')
    driver.save_screenshot(str(SHOTS/'evaluate.png'))
    assert not errors, errors
    wait(driver, '.jp-OutputArea-output', text='Y-PSNR')
