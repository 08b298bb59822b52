"""Build the course notebooks from their reviewable sources and execute them.

Each ``notebooks/src/NN_topic.py`` is a notebook in "percent" format::

    # %% [markdown]
    # # A title
    # Some prose.

    # %% tags=["raises-exception"]
    client.chat.completions.create(model="no-such-model", messages=[])

This script turns it into ``notebooks/NN_topic.ipynb``, executes it offline in a fresh kernel
(the simulated provider, zero latency, as nbval will) and saves the outputs, which nbval then
compares on every ``make test``. Usage::

    python tools/build_notebooks.py                 # every notebook
    python tools/build_notebooks.py 00_setup        # one notebook
    python tools/build_notebooks.py --check         # fail if a .ipynb is not built from its source
    python tools/build_notebooks.py --dir solutions ex04_retry   # solutions/src -> solutions/

With ``--dir solutions`` the sources are ``solutions/src/*.py`` and each notebook also records
``metadata["course"] = {"exercise": "<name>"}``, which the grader reads.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "notebooks" / "src"
OUTPUT = ROOT / "notebooks"
FOLDERS = ("notebooks", "solutions")
_CELL = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")
KERNEL_ENV = {
    "COURSE_MODE": "offline",
    "COURSE_DOTENV": "none",
    "COURSE_FAKE_LATENCY": "0",
    "MPLBACKEND": "Agg",
    "IPYTHONDIR": str(ROOT / "tools" / "ipython"),
}
KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
_LINE_MAGIC = re.compile(r"^# (%[A-Za-z])")
_CELL_MAGIC = re.compile(r"^# %%[A-Za-z]")


def uncomment_magics(text: str) -> str:
    """A code cell's text with its IPython magics uncommented (jupytext's convention).

    Sources keep magics commented (``# %xmode Minimal``) so that they stay valid Python for ruff; a
    cell magic (``# %%node``) comments its whole cell, whose body is not Python.
    """
    lines = text.splitlines()
    if lines and _CELL_MAGIC.match(lines[0]):
        return "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)
    return "\n".join(_LINE_MAGIC.sub(r"\1", line) for line in lines)


def parse(source: str) -> list[nbformat.NotebookNode]:
    """Cells of a percent-format source."""
    cells: list[nbformat.NotebookNode] = []
    kind, tags, lines = None, [], []

    def flush() -> None:
        if kind is None:
            return
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(
                line[2:] if line.startswith("# ") else line.lstrip("#")
                for line in text.splitlines()
            )
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell(uncomment_magics(text))
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in source.splitlines():
        match = _CELL.match(line)
        if match:
            flush()
            kind = "markdown" if match.group("md") else "code"
            tags = json.loads(match.group("tags")) if match.group("tags") else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def build(name: str, *, execute: bool = True, folder: str = "notebooks") -> Path:
    """Write <folder>/<name>.ipynb from <folder>/src/<name>.py, executed unless told not to."""
    sources, output = ROOT / folder / "src", ROOT / folder
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
    if execute:
        saved = {key: os.environ.get(key) for key in (*KERNEL_ENV, *KEYS)}
        for key in KEYS:  # the kernel must not see the developer's keys
            os.environ.pop(key, None)
        os.environ.update(KERNEL_ENV)
        try:
            NotebookClient(
                notebook,
                timeout=120,
                kernel_name="python3",
                record_timing=False,  # no per-cell timestamps: rebuilds diff where outputs do
                resources={"metadata": {"path": str(output)}},
            ).execute()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    target = output / f"{name}.ipynb"
    nbformat.write(notebook, target)
    return target


def check(folder: str = "notebooks") -> list[str]:
    """Names of notebooks whose cells differ from their source."""
    stale = []
    sources, output = ROOT / folder / "src", ROOT / folder
    for source in sorted(sources.glob("*.py")):
        target = output / f"{source.stem}.ipynb"
        expected = [(c.cell_type, c.source) for c in parse(source.read_text(encoding="utf-8"))]
        actual = (
            []
            if not target.exists()
            else [(c.cell_type, c.source) for c in nbformat.read(target, as_version=4).cells]
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
    sources = ROOT / args.dir / "src"
    names = args.names or [path.stem for path in sorted(sources.glob("*.py"))]
    for name in names:
        print(f"built {build(name, folder=args.dir).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
