"""The notebook pipeline: percent sources read by jupytext, stable cell ids, a staleness check
that sees text, tags and metadata, and stream outputs stored as a reader sees them."""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from build_notebooks import JUPYTEXT, build, check, merge_streams, parse  # noqa: E402

SOURCE = """\
# %% [markdown]
# # A title

# %% tags=["raises-exception"]
# %xmode Minimal
raise ValueError("shown on purpose")

# %% language="node"
# console.log("a cell magic's body is commented in the source");
"""


def test_a_source_is_read_as_jupytext_reads_it() -> None:
    cells = parse(SOURCE)
    assert [cell.cell_type for cell in cells] == ["markdown", "code", "code"]
    assert cells[0].source == "# A title"
    assert cells[1].metadata == {"tags": ["raises-exception"]}
    assert cells[1].source.splitlines()[0] == "%xmode Minimal"  # magics uncommented
    assert (
        cells[2].source == '%%node\nconsole.log("a cell magic\'s body is commented in the source");'
    )
    assert all("lines_to_next_cell" not in cell.metadata for cell in cells)


@pytest.mark.parametrize("source", sorted(ROOT.glob("sources/*/*.py")))
def test_every_source_is_jupytexts_own_percent_format(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    notebook = jupytext.reads(text, fmt="py:percent", config=JUPYTEXT)
    assert jupytext.writes(notebook, fmt="py:percent", config=JUPYTEXT) == text


def _tree(tmp_path: Path, source: str) -> Path:
    (tmp_path / "sources" / "notebooks").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "sources" / "notebooks" / "01_demo.py").write_text(source, encoding="utf-8")
    return tmp_path


def test_the_staleness_check_sees_text_tags_and_metadata(tmp_path: Path) -> None:
    root = _tree(tmp_path, SOURCE)
    source = root / "sources" / "notebooks" / "01_demo.py"
    build("01_demo", execute=False, root=root)
    assert check(root=root) == []
    notebook = nbformat.read(root / "notebooks" / "01_demo.ipynb", as_version=4)
    assert [cell.id for cell in notebook.cells] == ["01_demo-000", "01_demo-001", "01_demo-002"]

    source.write_text(SOURCE.replace(' tags=["raises-exception"]', ""), encoding="utf-8")
    assert check(root=root) == ["01_demo"]  # a removed tag is noticed

    source.write_text(
        SOURCE.replace(
            'tags=["raises-exception"]',
            'tags=["raises-exception"] slideshow={"slide_type": "skip"}',
        ),
        encoding="utf-8",
    )
    assert check(root=root) == ["01_demo"]  # other metadata too

    source.write_text(SOURCE.replace("A title", "Another title"), encoding="utf-8")
    assert check(root=root) == ["01_demo"]


def test_consecutive_prints_are_stored_as_one_output() -> None:
    cell = nbformat.v4.new_code_cell("...")
    stream = nbformat.v4.new_output
    cell.outputs = [
        stream("stream", name="stdout", text="a"),
        stream("stream", name="stdout", text="b"),
        stream("stream", name="stderr", text="warning\n"),
        stream("stream", name="stdout", text="c\n"),
        stream("display_data", data={"text/plain": "x"}),
        stream("stream", name="stdout", text="d"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    merge_streams(notebook)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in cell.outputs] == [
        ("stream", "stdout", "ab"),
        ("stream", "stderr", "warning\n"),
        ("stream", "stdout", "c\n"),
        ("display_data", None, None),
        ("stream", "stdout", "d"),
    ]
