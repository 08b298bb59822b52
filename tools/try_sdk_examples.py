"""Run the official SDKs' own usage snippets offline against the simulated provider, and sort them.

Issue 13 promises that the SDKs' examples for chat completions, messages, responses, tools and
structured outputs run unchanged offline, and that everything else fails saying it needs a live
key. This script measures that promise on the snippets the installed SDKs ship (their README, in
the dist-info ``METADATA``) or on a directory of example ``.py`` files, without copying them into
the repository. Usage::

    python tools/try_sdk_examples.py                      # the installed openai + anthropic READMEs
    python tools/try_sdk_examples.py path/to/examples/    # every .py file under a directory
    python tools/try_sdk_examples.py some/README.md       # every python block of a markdown file

Each snippet runs unchanged in its own interpreter, offline (no keys, ``COURSE_MODE=offline``),
after ``from course_helpers import setup; setup()``. A README fragment that uses ``client``
without making one gets the client its section made; top-level ``await`` runs as a notebook runs
it. Outcomes: ``ok``; ``live key`` (failed with the simulated provider's "needs a live key");
``out of scope`` (needs what no simulation offers: a file on disk, a web server, Azure, Bedrock,
Vertex, realtime websockets, certificates, a name the fragment never defines); ``other``.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["Outcome", "Snippet", "classify", "default_sources", "extract", "run_snippet"]

ROOT = Path(__file__).resolve().parent.parent
LIVE_KEY = "needs a live key"
KINDS = ("ok", "live key", "out of scope", "other")

_FENCE = re.compile(r"^```(?:python|py)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)

# (pattern in the snippet's text, what it needs that no simulation offers)
_OUT_OF_SCOPE: tuple[tuple[str, str], ...] = (
    (r"\bflask\b", "a web server (Flask) receiving webhooks"),
    (r"\bAzure\w*OpenAI\b|azure_", "Azure"),
    (r"\bbedrock\b|BedrockOpenAI", "Amazon Bedrock"),
    (r"\b[Vv]ertex|google_cloud|AnthropicFoundry", "a cloud platform (Vertex, Foundry)"),
    (r"\.realtime\.|\.live\.connect", "realtime websockets"),
    (r"workload_identity", "cloud workload identity (token files, metadata servers)"),
    (r"load_cert_chain", "mTLS certificates on disk"),
    (r"DefaultAioHttpClient", "the aiohttp transport (openai[aiohttp], not installed)"),
    (r"\bopen\(\"|\bPath\(\"", "a real file on disk"),
)

_START = "--- snippet output ---"
_RUNNER = """\
import ast, asyncio, sys
from course_helpers import setup
setup()
print(@START@, flush=True)
path = sys.argv[1]
source = open(path, encoding="utf-8").read()
code = compile(source, path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
scope = {"__name__": "__main__"}
exec(sys.argv[2], scope)
result = eval(code, scope)
if asyncio.iscoroutine(result):
    asyncio.run(result)
""".replace("@START@", repr(_START))


@dataclass(frozen=True)
class Snippet:
    """One runnable piece of documentation: where it comes from and its unchanged text."""

    source: str
    line: int
    code: str

    @property
    def name(self) -> str:
        return f"{self.source}:{self.line}"

    @property
    def provider(self) -> str:
        return "anthropic" if "anthropic" in (self.source + self.code).lower() else "openai"


@dataclass(frozen=True)
class Outcome:
    """How a snippet ended: one of ``KINDS``, a one-line detail and what the snippet printed."""

    kind: str
    detail: str
    output: str = ""


def default_sources() -> list[Path]:
    """The README (dist-info METADATA) of each installed SDK."""
    found = []
    for name in ("openai", "anthropic"):
        files = metadata.distribution(name).files or []
        found += [Path(str(f.locate())) for f in files if f.name == "METADATA"]
    return found


def extract(path: Path) -> list[Snippet]:
    """Every Python block of a markdown/METADATA file, or every ``.py`` file under a directory."""
    if path.is_dir():
        return [
            Snippet(str(p.relative_to(path)), 1, p.read_text(encoding="utf-8"))
            for p in sorted(path.rglob("*.py"))
        ]
    text = path.read_text(encoding="utf-8")
    label = path.parent.name.split("-")[0] if path.name == "METADATA" else path.name
    return [
        Snippet(label, text.count("\n", 0, m.start()) + 1, m.group(1))
        for m in _FENCE.finditer(text)
    ]


def _top_level_await(tree: ast.AST) -> bool:
    """Whether an ``await`` sits outside every function (a notebook-style fragment)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Await | ast.AsyncFor | ast.AsyncWith) or _top_level_await(node):
            return True
    return False


def _unbound_names(tree: ast.AST) -> set[str]:
    """Names the snippet reads but never binds (nor imports) and that are not builtins."""
    bound: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read - bound - set(dir(builtins))


def context_for(snippet: Snippet) -> str:
    """The client a README fragment assumes from its section, when it uses one it never makes."""
    tree = ast.parse(snippet.code)
    if "client" not in _unbound_names(tree):
        return ""
    if snippet.provider == "anthropic":
        cls = "AsyncAnthropic" if _top_level_await(tree) else "Anthropic"
        return f"from anthropic import {cls}\nclient = {cls}()\n"
    cls = "AsyncOpenAI" if _top_level_await(tree) else "OpenAI"
    return f"from openai import {cls}\nclient = {cls}()\n"


def out_of_scope(snippet: Snippet) -> str | None:
    """What the snippet needs beyond any simulation, or ``None``."""
    for pattern, reason in _OUT_OF_SCOPE:
        if re.search(pattern, snippet.code):
            return reason
    missing = sorted(_unbound_names(ast.parse(snippet.code)) - {"client"})
    if missing:
        return f"an incomplete fragment (uses {', '.join(missing)} it never defines)"
    return None


def offline_env() -> dict[str, str]:
    """This environment without keys or course settings, offline, with no simulated latency."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.endswith("_API_KEY") or k.startswith(("OPENAI_", "ANTHROPIC_", "COURSE_")))
    }
    env.update(COURSE_MODE="offline", COURSE_DOTENV="none", COURSE_FAKE_LATENCY="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_snippet(snippet: Snippet, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run one snippet unchanged in a fresh interpreter, in an empty directory."""
    with tempfile.TemporaryDirectory(prefix="sdk-snippet-") as work:
        path = Path(work) / "snippet.py"
        path.write_text(snippet.code, encoding="utf-8")
        try:
            return subprocess.run(
                [sys.executable, "-c", _RUNNER, str(path), context_for(snippet)],
                cwd=work,
                env=offline_env(),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess([], -1, "", f"timed out after {timeout:g} s")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:160] if lines else "(no output)"


def classify(snippet: Snippet, result: subprocess.CompletedProcess[str]) -> Outcome:
    """``ok`` / ``live key`` / ``out of scope`` / ``other``, with the line that says why."""
    output = result.stdout.partition(_START)[2]
    if result.returncode == 0:
        return Outcome("ok", _last_line(output), output)
    if LIVE_KEY in result.stderr or LIVE_KEY in result.stdout:
        line = next(ln for ln in [*result.stderr.splitlines(), output] if LIVE_KEY in ln)
        end = line.index(LIVE_KEY) + len(LIVE_KEY)  # the feature it names comes just before
        return Outcome("live key", "…" + line[max(0, end - 150) : end], output)
    reason = out_of_scope(snippet)
    if reason is not None:
        return Outcome("out of scope", f"{reason}: {_last_line(result.stderr)}", output)
    return Outcome("other", _last_line(result.stderr), output)


def try_all(
    sources: Iterable[Path], timeout: float = 60.0, workers: int = 2
) -> list[tuple[Snippet, Outcome]]:
    """Every snippet of every source, run (``workers`` at a time) and classified, in order."""
    snippets = [snippet for source in sources for snippet in extract(source)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = list(pool.map(lambda s: run_snippet(s, timeout), snippets))
    return [(s, classify(s, run)) for s, run in zip(snippets, runs, strict=True)]


def report(results: Sequence[tuple[Snippet, Outcome]]) -> str:
    """A table (snippet, outcome, detail) and the totals."""
    width = max((len(s.name) for s, _ in results), default=10)
    rows = [f"{s.name:<{width}}  {o.kind:<12}  {o.detail}" for s, o in results]
    counts = Counter(o.kind for _, o in results)
    totals = ", ".join(f"{kind}: {counts.get(kind, 0)}" for kind in KINDS)
    return "\n".join([*rows, "", f"{len(results)} snippets: {totals}"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("sources", nargs="*", type=Path, help="README/METADATA files or dirs")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per snippet")
    parser.add_argument("--workers", type=int, default=2, help="snippets run at a time")
    args = parser.parse_args(argv)
    results = try_all(args.sources or default_sources(), args.timeout, args.workers)
    print(report(results))
    return 1 if any(o.kind == "other" for _, o in results) else 0


if __name__ == "__main__":
    sys.exit(main())
