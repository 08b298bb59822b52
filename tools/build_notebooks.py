"""Build the course notebooks from their reviewable sources and execute them.

Each ``sources/notebooks/NN_topic.py`` is a notebook in "percent" format::

    # %% [markdown]
    # # A title
    # Some prose.

    # %% tags=["raises-exception"]
    client.chat.completions.create(model="no-such-model", messages=[])

the format jupytext reads and writes (jupytext parses it here; a ``%%node`` cell is
``# %% language="node"`` with its body commented, see ``parse``). This script turns it into
``notebooks/NN_topic.ipynb`` with stable cell ids, executes it offline in a fresh kernel
(the simulated provider, zero latency, as nbval will) and saves the outputs, which nbval then
compares on every ``make test``. Usage::

    python tools/build_notebooks.py                 # every notebook
    python tools/build_notebooks.py 00_setup        # one notebook
    python tools/build_notebooks.py --check         # fail if a .ipynb is not built from its source
    python tools/build_notebooks.py --dir solutions ex04_retry   # sources/solutions -> solutions/

With ``--dir solutions`` the sources are ``sources/solutions/*.py`` and each notebook also records
``metadata["course"] = {"exercise": "<name>"}``, which the grader reads.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import JupytextConfiguration
from nbclient import NotebookClient

from course_helpers.offline_env import offline_environment

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "sources"  # out of the learner's way: JupyterLab opens notebooks/
OUTPUT = ROOT / "notebooks"
FOLDERS = ("notebooks", "solutions")
IPYTHON_DIR = ROOT / "tools" / "ipython"  # the course's kernel profile, as nbval uses it
# Cell metadata jupytext keeps only to write the source back byte for byte: not for the notebook.
_LAYOUT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker")


# jupytext.toml says the same, for jupytext in JupyterLab or on the command line.
JUPYTEXT = JupytextConfiguration(custom_cell_magics="node")


def parse(source: str) -> list[nbformat.NotebookNode]:
    """Cells of a percent-format source, as jupytext reads them (tags and other metadata kept).

    A ``%%node`` cell is written ``# %% language="node"`` with its body commented, as jupytext
    writes cell magics it is told about, so every source stays valid Python for ruff.
    """
    cells = jupytext.reads(source, fmt="py:percent", config=JUPYTEXT).cells
    for cell in cells:
        for key in _LAYOUT_KEYS:
            cell.metadata.pop(key, None)
    return list(cells)


def merge_streams(notebook: nbformat.NotebookNode) -> None:
    """Join each code cell's consecutive stdout (or stderr) outputs into one.

    A cell that prints with ``flush=True`` produces one output per print; stored apart, they make
    the file hundreds of entries long for one block of text a reader sees.
    """
    for cell in notebook.cells:
        merged: list[nbformat.NotebookNode] = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        if cell.cell_type == "code":
            cell.outputs = merged


def _comparable(cell: nbformat.NotebookNode) -> tuple[str, str, dict[str, object]]:
    metadata = {key: value for key, value in cell.metadata.items() if key != "execution"}
    return cell.cell_type, cell.source, metadata


def build(name: str, *, execute: bool = True, folder: str = "notebooks", root: Path = ROOT) -> Path:
    """Write <folder>/<name>.ipynb from <folder>/src/<name>.py, executed unless told not to."""
    sources, output = root / "sources" / folder, root / folder
    cells = parse((sources / f"{name}.py").read_text(encoding="utf-8"))
    notebook = nbformat.v4.new_notebook(cells=cells)
    if folder == "solutions":
        notebook.metadata["course"] = {"exercise": name}
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{name}-{index:03d}"
    if execute:  # offline, as nbval runs it: the developer's keys and .env never reach it
        NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            record_timing=False,  # no per-cell timestamps: rebuilds diff where outputs do
            resources={"metadata": {"path": str(output)}},
        ).execute(env=offline_environment(os.environ, ipython_dir=IPYTHON_DIR))
    merge_streams(notebook)
    target = output / f"{name}.ipynb"
    nbformat.write(notebook, target)
    return target


def check(folder: str = "notebooks", *, root: Path = ROOT) -> list[str]:
    """Names of notebooks whose cells (type, text, tags and other metadata) differ from their
    source."""
    stale = []
    sources, output = root / "sources" / folder, root / folder
    for source in sorted(sources.glob("*.py")):
        target = output / f"{source.stem}.ipynb"
        expected = [_comparable(c) for c in parse(source.read_text(encoding="utf-8"))]
        actual = (
            []
            if not target.exists()
            else [_comparable(c) for c in nbformat.read(target, as_version=4).cells]
        )
        if expected != actual:
            stale.append(source.stem)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument(
        "--check", action="store_true", help="only check that notebooks match sources"
    )
    parser.add_argument(
        "--dir", choices=FOLDERS, default="notebooks", help="which notebooks (default: notebooks)"
    )
    args = parser.parse_args(argv)
    option = "" if args.dir == "notebooks" else f" --dir {args.dir}"
    if args.check:
        stale = check(args.dir)
        for name in stale:
            print(
                f"{args.dir}/{name}.ipynb is stale: "
                f"run python tools/build_notebooks.py{option} {name}"
            )
        return 1 if stale else 0
    sources = SOURCES / args.dir
    names = args.names or [path.stem for path in sorted(sources.glob("*.py"))]
    for name in names:
        print(f"built {build(name, folder=args.dir).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
