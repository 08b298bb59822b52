"""course_helpers/seed/ holds the module's Python code of sections 4–7 exactly as printed.

The module's text is kept byte for byte in ``course_helpers/seed/module-02.txt``. Every Python
block of sections 4–7 must appear verbatim: the importable ones as a seed file's body (below its
marker line, with only missing imports above it), the runnable snippets (usage example, key
security, timeouts) as a cell of the notebook that runs them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "course_helpers" / "seed"
MODULE = SEED / "module-02.txt"
SHARED = ROOT.parent / "shared" / "seed" / "module-02-llm-api-integration.md"
MARKER = "# ---- the module's code, verbatim, from the next line to the end of the file ----\n"

# (the block's first line, where it must appear)
WHERE = {
    "import time\nfrom openai import OpenAI, RateLimitError": "seed/retry.py",
    "from tenacity import retry": "seed/tenacity_retry.py",
    "import time\nfrom collections import deque": "seed/ratelimit.py",
    "class TokenBudget:": "seed/budget.py",
    "from dataclasses import dataclass": "seed/client.py",
    "# Initialize client": "sources/notebooks/06_integration_layer.py",
    "# DO: Use environment variables": "sources/notebooks/07_best_practices.py",
    "# Always set timeouts": "sources/notebooks/07_best_practices.py",
    "import logging\nimport time": "seed/logged.py",
}


def python_blocks(text: str, first_section: int = 4, last_section: int = 7) -> list[str]:
    """The ```python blocks of sections ``first_section``..``last_section``, in order."""
    sections = re.split(r"^## (?=\d+\. )", text, flags=re.M)
    chosen = [s for s in sections if s[:2].rstrip(".").isdigit()]
    chosen = [s for s in chosen if first_section <= int(s.split(".")[0]) <= last_section]
    return [b for s in chosen for b in re.findall(r"^```python\n(.*?)^```$", s, re.S | re.M)]


BLOCKS = python_blocks(MODULE.read_text(encoding="utf-8"))


def location(block: str) -> str:
    matches = [where for start, where in WHERE.items() if block.startswith(start)]
    assert len(matches) == 1, f"no single home for the block starting {block[:60]!r}"
    return matches[0]


def test_every_block_of_sections_4_to_7_has_a_home() -> None:
    assert len(BLOCKS) == len(WHERE) == 9
    assert sorted(location(b) for b in BLOCKS) == sorted(WHERE.values())


@pytest.mark.parametrize("block", [b for b in BLOCKS if location(b).startswith("seed/")],
                         ids=lambda b: location(b))  # fmt: skip
def test_seed_file_body_is_the_block_verbatim(block: str) -> None:
    path = ROOT / "course_helpers" / location(block)
    source = path.read_text(encoding="utf-8")
    assert source.count(MARKER) == 1, f"{path.name}: the marker line must appear exactly once"
    header, body = source.split(MARKER)
    assert body == block, f"{path.name} differs from the module's block below its marker"
    header_code = [
        line for line in header.split('"""')[-1].splitlines() if line and not line.startswith("#")
    ]
    extra = [line for line in header_code if not line.startswith(("import ", "from "))]
    assert not extra, f"{path.name}: only imports may be added above the marker, found {extra}"


IN_NOTEBOOKS = [b for b in BLOCKS if location(b).startswith("sources/notebooks/")]


@pytest.mark.parametrize("block", IN_NOTEBOOKS, ids=lambda b: b.splitlines()[0])
def test_snippet_runs_verbatim_in_its_notebook(block: str) -> None:
    notebook = (ROOT / location(block)).read_text(encoding="utf-8")
    assert block in notebook, (
        f"{location(block)} has no cell with {block.splitlines()[0]!r} verbatim"
    )


def test_the_kept_text_is_the_modules() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not on this machine")
    assert MODULE.read_bytes() == SHARED.read_bytes()


def test_a_changed_character_is_caught() -> None:
    """The comparison is exact: one space more in a block and it no longer matches."""
    block = next(b for b in BLOCKS if location(b) == "seed/retry.py")
    body = (SEED / "retry.py").read_text(encoding="utf-8").split(MARKER)[1]
    assert body == block and body.replace("= 3", "=  3", 1) != block
