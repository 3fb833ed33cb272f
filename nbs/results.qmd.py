"""---
title: Results
description: Every number srkd reports, as measured by its notebooks, with the command that produced it.
---"""
from nbdev.config import get_config
from srkd.site import results_markdown

# nbdev renders this page from _proc/, into which it copies only the top folder of nbs/: the figures go with the page.
print(results_markdown(figures_to=get_config().config_path/'_proc'))
