# JupyterLab for srkd: `make lab` starts it with this file. Every notebook saved from the editor is cleaned exactly as
# `nbdev_clean` cleans it (no execution counts, no per-user metadata; settings.ini's jupyter_hooks = True), so reading
# a chapter leaves git clean. It is nbdev's own pre-save hook, set for this project only instead of in ~/.jupyter.
import os

def nbdev_clean_on_save(model, path, contents_manager, **kwargs):
    from nbdev.clean import clean_jupyter
    clean_jupyter(path=os.path.join(contents_manager.root_dir, path), model=model)  # nbdev expects a path from here

c.ContentsManager.pre_save_hook = nbdev_clean_on_save
c.ServerApp.root_dir = 'nbs'
c.LabApp.check_for_updates_class = 'jupyterlab.NeverCheckForUpdate'  # no network check (and no nbs/.last_checked)
c.LabApp.news_url = None
