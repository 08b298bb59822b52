"""The instructor's grader behind ``python -m course_helpers.grade``.

- ``submissions``: which notebooks, whose they are, which exercise each one is;
- ``pristine``: the private, verified copy of the checks a grading cell imports;
- ``execute``: one notebook in one fresh offline kernel, with nested time limits;
- ``guard`` (with ``_guard_kernel``, sent into each kernel): the one way a grade comes out,
  signed, and the in-process forgeries it detects;
- ``batch``: many notebooks in parallel workers;
- ``report``: rows, CSV, JSON summary, table.
"""

from __future__ import annotations

import sys

# With jupyterlab installed, importing nbformat takes 2.5-5 s: jsonschema then imports the
# optional rfc3987-syntax, which builds Lark grammars at import time (jsonschema#1428). Notebook
# validation never checks IRI formats, so the grader declines that import (only if nothing has
# imported it yet), which makes every grader start-up seconds faster.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
