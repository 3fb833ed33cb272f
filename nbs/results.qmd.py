"""---
title: Results
description: Every number srkd reports, as measured by its notebooks, with the command that produced it.
---"""
from srkd.site import results_markdown

print(results_markdown())
