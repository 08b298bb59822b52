# %% [markdown]
# # 07 · Best practices: keys, timeouts, logging and monitoring
#
# The code of the earlier notebooks works. This notebook is about what keeps it working, safely,
# once real users and real money are involved. What you'll learn:
#
# 1. where API keys belong (environment variables and `.env`), and how git is kept away from them,
# 2. how to show a key without revealing it,
# 3. what a leaked key costs, and how to rotate one,
# 4. how to **scan** a project for leaked keys (and prove the scan can find one),
# 5. **timeouts**, per client and per request, and the worst case once retries are added,
# 6. logging every call as one JSON line with **request ids**, and a usage summary to monitor.

# %%
from course_helpers import setup

course = setup()

# %% [markdown]
# ## 1. Keys live in the environment, never in code
#
# Both SDKs read their key from an environment variable when you do not pass one:
# `OpenAI()` reads `OPENAI_API_KEY`, `Anthropic()` reads `ANTHROPIC_API_KEY`. So the code never
# contains a key, and the same code runs on your laptop, in CI and in production with different
# keys. Never write `OpenAI(api_key="sk-...")` with a real key in a notebook: saved notebooks keep
# their code *and* their outputs, and they end up in git.
#
# On your machine, the variables come from a file named exactly `.env` in the course folder,
# which `setup()` (like `python-dotenv`'s `load_dotenv()`) reads. The course ships a template,
# `.env.example`, with the variable names and no values:

# %%
from pathlib import Path

template = Path("..", ".env.example").read_text().splitlines()
names = [line.split("=")[0] for line in template if "=" in line and not line.startswith("#")]
print("variables in .env.example:", names)
# ruff: noqa: I001  (the module's snippet in the next cells imports mid-cell, as printed)

# %% [markdown]
# Section 7 of the module ("API Key Security") puts it in one snippet. Run as printed:

# %%
# DO: Use environment variables
import os
api_key = os.environ.get("OPENAI_API_KEY")

# DO: Use secrets management in production
# AWS Secrets Manager, HashiCorp Vault, etc.

# DON'T: Hardcode keys
api_key = "sk-abc123"  # NEVER DO THIS

# DON'T: Commit keys to version control
# Add to .gitignore: .env, *.pem, *-key.json

# %% [markdown]
# Careful: the "DON'T" line is live code. Run in order, it leaves `api_key = "sk-abc123"`, which
# is the key the module's timeout snippet (section 5 of this notebook) hands to
# `OpenAI(api_key=api_key)`.
#
# Its last line is the advice about files: `.env`, `*.pem` (private keys, certificates) and
# `*-key.json` (service-account keys, as Google Cloud names them) must never be committed. The
# course's `.gitignore` has all three, and more lines about `.env` files:

# %%
gitignore = Path("..", ".gitignore").read_text().splitlines()
for line in gitignore:
    if ".env" in line or line in ("*.pem", "*-key.json"):
        print(line)

# %% [markdown]
# Read the `.env` lines in order: ignore `.env`, ignore every `.env.something` (`.env.local`,
# `.env.production`, …), but **do** track `.env.example` (the `!` re-includes it), because it holds
# no secrets. To check a file yourself, run `git check-ignore -v .env` in a terminal: it prints the
# rule that ignores the file, or nothing if git would commit it.
#
# In production, keys come from the platform's secret store (GitHub Actions secrets, AWS Secrets
# Manager, Kubernetes secrets, …) as environment variables, never from a file in the repository.

# %% [markdown]
# ## 2. Showing a key without revealing it
#
# Sometimes you need to show *which* key is in use: in a support question, a log line, a startup
# banner. Show it **masked**: the prefix tells the provider and key type, the last four
# characters tell two keys apart, and nothing in between is usable. (The key below is made up.)

# %%
from course_helpers.keys import mask

made_up_key = "sk-proj-" + "x7Q" * 30 + "wxyz"
print("length:", len(made_up_key))
print("masked:", mask(made_up_key))

# %% [markdown]
# Both providers' consoles show keys the same way. The SDK clients do not print their key
# either: their `repr` has no key in it.

# %%
from openai import OpenAI

client = OpenAI()
print("key in repr(client):", client.api_key in repr(client))

# %% [markdown]
# ## 3. What a leaked key costs, and how to rotate it
#
# A key pushed to a public repository is found by scanners within minutes. Whoever finds it can
# spend on your account up to your limits, and your data sent with it is not the issue: **the bill
# is**. Repositories of course material are a favourite target, because learners paste keys into
# notebooks. Deleting the commit does not help: the key is in the history, in forks and in the
# scanners' databases. The only fix is to **rotate** it: make a new key, then kill the old one.
#
# **OpenAI** ([platform.openai.com](https://platform.openai.com)):
# 1. *API keys* page (per project): **Create new secret key**; copy it once, into `.env` or
#    your secret store.
# 2. Deploy or restart whatever uses the key, and check that it works.
# 3. Back on the *API keys* page, **revoke** the leaked key.
# 4. Check the *Usage* page for calls you did not make; set a project **budget** so that a future
#    leak has a ceiling.
#
# **Anthropic** ([console.anthropic.com](https://console.anthropic.com)):
# 1. *Settings → API keys*: **Create Key** (keys belong to a workspace); copy it once.
# 2. Deploy or restart whatever uses the key, and check that it works.
# 3. On the same page, **disable** or **delete** the leaked key.
# 4. Check *Usage* and *Cost* for calls you did not make; set a workspace **spend limit**.
#
# Both providers take part in GitHub's secret scanning and may disable a key found in a public
# repository for you. Do not count on it: rotate first, investigate second.

# %% [markdown]
# ## 4. Scan the project for key-like strings
#
# Before you push, look for anything shaped like a key. Real keys have recognisable shapes:
# `sk-ant-` followed by about a hundred characters (Anthropic), `sk-proj-` followed by even more
# (OpenAI project keys), and older OpenAI keys: `sk-` followed by 48 letters and digits. The
# lengths in these patterns keep out the short, obviously fake keys that the course's own tests
# use. The scan skips `.env` files (the one place keys belong, and ignored by git) and the
# folders git does not track (`.git`, `.venv`, caches).

# %%
import os
import re

KEY_PATTERNS = {
    "Anthropic key": re.compile(r"sk-ant-[A-Za-z0-9_-]{80,}"),
    "OpenAI project key": re.compile(r"sk-proj-[A-Za-z0-9_-]{80,}"),
    "OpenAI key (older format)": re.compile(r"\bsk-[A-Za-z0-9]{32,}"),
}
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
}


def is_env_file(name: str) -> bool:
    return name == ".env" or (name.startswith(".env.") and name != ".env.example")


# %% [markdown]
# The scan walks the folder, reads every file as text, and reports each match **masked**:


# %%
def scan_for_keys(root: Path) -> tuple[int, list[tuple[str, str, str]]]:
    """Files scanned, and (file, kind, masked match) for every key-like string under root."""
    scanned, findings = 0, []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIP_DIRS)
        for name in sorted(files):
            path = Path(folder, name)
            if is_env_file(name):
                continue
            try:
                text = path.read_bytes()[:5_000_000].decode("utf-8", errors="ignore")
            except OSError:  # vanished or unreadable: nothing to leak from here
                continue
            scanned += 1
            for kind, pattern in KEY_PATTERNS.items():
                for match in pattern.finditer(text):
                    findings.append((str(path.relative_to(root)), kind, mask(match.group())))
    return scanned, findings


# %% [markdown]
# A check that cannot fail proves nothing, so first plant a made-up key in a temporary folder and
# make sure the scan finds it:

# %%
import tempfile

with tempfile.TemporaryDirectory() as tmp:
    planted = "sk-ant-api03-" + "Zq9" * 31 + "-leak"
    Path(tmp, "notebook.ipynb").write_text(f'{{"source": "Anthropic(api_key=\\"{planted}\\")"}}')
    Path(tmp, ".env").write_text(f"ANTHROPIC_API_KEY={planted}\n")
    scanned, findings = scan_for_keys(Path(tmp))
print("files scanned:", scanned, "(.env skipped)")
print("findings:", findings)

# %% [markdown]
# Now the real thing: the whole course folder. The number of files grows as the course does, so
# only the result is printed.

# %%
scanned, findings = scan_for_keys(Path(".."))
print("scanned the course folder:", scanned > 50)
print("findings:", findings)
print("no key-like strings found" if not findings else "ROTATE these keys, then remove them")

# %% [markdown]
# For your own projects, use a maintained scanner in a pre-commit hook: `gitleaks`,
# `detect-secrets` or `trufflehog` know hundreds of key formats and can scan the git history too.
# GitHub's *push protection* blocks pushes that contain known key formats.

# %% [markdown]
# ## 5. Timeouts
#
# Both SDKs wait up to **10 minutes** for a response by default, and retry twice. A request that
# hangs (an overloaded region, a network problem) holds a worker, a connection and a user for
# that long. Set a timeout that fits the call: a few seconds for a short classification, longer for
# a long generation.
#
# The next cell simulates a request that never answers, with a client that gives up after 0.3 s
# and does not retry. The `APITimeoutError` is the point of the cell:

# %%
import time

import openai

from course_helpers import FakeProvider

with FakeProvider() as fake:
    fake.fail_next(hang=True)
    impatient = OpenAI(timeout=0.3, max_retries=0)  # per client
    started = time.perf_counter()
    try:
        impatient.chat.completions.create(
            model="gpt-5.4-mini", messages=[{"role": "user", "content": "Say hello"}]
        )
    except openai.APITimeoutError as exc:
        print(f"{type(exc).__name__} ({exc!s}) after {time.perf_counter() - started:.3f} s")

# %% [markdown]
# A timeout can also be set **per request**, for the one call that needs a different limit:
# `client.with_options(timeout=...)` returns a copy of the client with other settings, and every
# method also takes a `timeout=` argument. The Anthropic SDK works the same way:

# %%
import anthropic
from anthropic import Anthropic

claude = Anthropic()

with FakeProvider() as fake:
    fake.fail_next(hang=True, times=2)
    try:
        client.with_options(max_retries=0).chat.completions.create(
            model="gpt-5.4-mini", messages=[{"role": "user", "content": "Say hello"}], timeout=0.3
        )
    except openai.APITimeoutError as exc:
        print("OpenAI:   ", type(exc).__name__)
    try:
        claude.with_options(timeout=0.3, max_retries=0).messages.create(
            model="claude-haiku-5-5", max_tokens=50, messages=[{"role": "user", "content": "Hi"}]
        )
    except anthropic.APITimeoutError as exc:
        print("Anthropic:", type(exc).__name__)

# %% [markdown]
# The module's "Request Timeout Configuration" snippet does both. It needs a `messages` list,
# which the module leaves to you:

# %%
messages = [{"role": "user", "content": "Say hello"}]

# %%
# Always set timeouts
client = OpenAI(
    api_key=api_key,
    timeout=30.0,  # 30 seconds
    max_retries=2
)

# For long-running requests
response = client.chat.completions.create(
    model="gpt-4o",
    messages=messages,
    timeout=120.0  # 2 minutes for complex tasks
)

# %% [markdown]
# It ran, but with which key?

# %%
print('the key used is the hard-coded "sk-abc123":', client.api_key == "sk-abc123")

# %% [markdown]
# The hard-coded `"sk-abc123"` of the "DON'T" line in section 1, because `api_key` still holds it.
# The simulated provider accepts any key of that shape; the real API would refuse it (a 401, like
# the wrong-key row of notebook 04). With the key from the environment, the same settings: the
# module is right to set both timeouts, and its `max_retries=2` is the SDK's default anyway.

# %%
client = OpenAI(api_key=os.environ.get("OPENAI_API_KEY"), timeout=30.0, max_retries=2)
response = client.chat.completions.create(model="gpt-4o", messages=messages, timeout=120.0)
print(response.choices[0].message.content, "| client timeout:", client.timeout, "s")

# %% [markdown]
# ### The worst case: timeout × attempts
#
# A timeout applies to **each attempt**, and the SDKs retry a timed-out request. With
# `max_retries=1`, a hanging call takes two timeouts plus the back-off pause between them:

# %%
with FakeProvider() as fake:
    fake.fail_next(hang=True, times=2)
    started = time.perf_counter()
    try:
        OpenAI(timeout=0.1, max_retries=1).chat.completions.create(
            model="gpt-5.4-mini", messages=[{"role": "user", "content": "Say hello"}]
        )
    except openai.APITimeoutError:
        elapsed = time.perf_counter() - started
print("attempts:", len(fake.calls))
print("took at least (max_retries + 1) × timeout:", elapsed >= 2 * 0.1)

# %% [markdown]
# So the worst case of one call is `(max_retries + 1) × timeout`, plus the back-off pauses. With
# the defaults that is more than half an hour; with the module's 120 s request, 6 minutes:

# %%
for timeout, retries in ((600, 2), (120.0, 2)):
    print(f"timeout {timeout} s, max_retries {retries}:",
          (retries + 1) * timeout / 60, "minutes, plus back-off")  # fmt: skip

# %% [markdown]
# Choose the timeout from the answer you expect (`max_tokens` at the model's speed, plus the
# time to first token, plus a margin), and keep retries in **one** layer (notebook 04). For a
# stream, the timeout limits the wait for *each piece*, not the whole answer; to bound the total,
# add your own deadline around the loop (for example `asyncio.timeout(...)`).

# %% [markdown]
# ## 6. Logging every call, with request ids
#
# When something goes wrong in production, you need to know, for *that* call: which model, how
# many tokens, how long it took, whether it was retried, and **which request** it was. Two ids
# matter:
#
# * **your** request id, generated for each call, which ties together your log line, your usage
#   row and your application's other logs;
# * the **provider's** request id (`x-request-id` / `request-id` header), which is what OpenAI's or
#   Anthropic's support asks for.
#
# Section 7 of the module ("Logging and Monitoring") gives `logged_completion`, kept verbatim in
# `course_helpers/seed/logged.py`. Importing it runs its `logging.basicConfig(level=logging.INFO)`;
# it reads the module's global `client` (section 1), which we set. Then one call:

# %%
import logging

from course_helpers.seed import logged

logged.client = OpenAI()
with FakeProvider() as fake:
    try:
        logged.logged_completion(messages, model="gpt-4o")
    except NameError as exc:
        print(f"{type(exc).__name__}: {exc}")
print("requests sent:", len(fake.calls))

# %% [markdown]
# **`uuid` is never imported**: the id is made on the function's second line, so it fails before
# anything is sent. The idea is right, though: an id per request in every line, the duration, the
# tokens, failures logged and re-raised. Written by hand, fixed: `uuid` imported, the client passed
# in instead of a global, `time.perf_counter()` (a clock that never jumps) for durations, the
# provider's request id logged too, and logging's own `%s` arguments instead of f-strings:

# %%
import uuid

logger = logging.getLogger("course.logged_completion")


def logged_completion(client, messages, **kwargs):
    start = time.perf_counter()
    request_id = uuid.uuid4().hex[:8]
    logger.info("[%s] Starting LLM request", request_id)
    try:
        response = client.chat.completions.create(messages=messages, **kwargs)
    except Exception as e:
        duration = time.perf_counter() - start
        logger.error("[%s] Failed after %.2fs: %s: %s", request_id, duration, type(e).__name__, e)
        raise
    duration = time.perf_counter() - start
    logger.info("[%s] Completed in %.2fs, tokens: %s, provider request id: %s",
                request_id, duration, response.usage.total_tokens, response._request_id)  # fmt: skip
    return response


# %% [markdown]
# One call and one failure. The lines go to a list too, printed last (the ids and durations
# differ on every run, so the course's tests do not compare this output). The lines above that
# list come from the root handler the module's `basicConfig` installed: among them, the HTTP
# client's own INFO line for every request.

# %% tags=["nbval-ignore-output"]
import contextlib

records = []
handler = logging.Handler()
handler.emit = records.append
logger.addHandler(handler)

logged_completion(OpenAI(), messages, model="gpt-4o")
with FakeProvider() as fake:
    fake.fail_next(500)
    with contextlib.suppress(openai.InternalServerError):  # logged, then re-raised
        logged_completion(OpenAI(max_retries=0), messages, model="gpt-4o")
for record in records:
    print(record.levelname, record.getMessage())

# %%
ids = [record.getMessage()[1:9] for record in records]
print("lines:", len(records), "| one id per call, in each of its lines:", ids[0] == ids[1] != ids[2] == ids[3])

# %% [markdown]
# We turn the root logger back to warnings before going on, so the HTTP client's lines stop:

# %%
logging.getLogger().setLevel(logging.WARNING)
logger.removeHandler(handler)

# %% [markdown]
# The course's `LLMClient` logs one line per call with both ids, and never the messages or the key.
# `configure_logging(json=True)` formats the lines as JSON, one object per line, which log
# services (Datadog, CloudWatch, Loki, …) parse without configuration. Here we collect the lines
# in a buffer to look at them; normally they go to stderr.

# %%
import io
import json

from course_helpers import LLMClient, UsageLog
from course_helpers.usage import configure_logging

log_lines = io.StringIO()  # for this demo: collect the lines instead of printing them to stderr
logger = configure_logging(json=True, stream=log_lines)

usage_log = UsageLog()  # in memory; UsageLog("usage.db") keeps it across kernel restarts
llm = LLMClient(model="gpt-5.4-mini", usage_log=usage_log)
reply = llm.complete("What is the capital of France?")
print(reply.content)

# %% [markdown]
# The log line, parsed. The time, the ids and the latency differ on every run, so they are shown
# separately:

# %%
entry = json.loads(log_lines.getvalue().splitlines()[-1])
varying = {"time", "request_id", "provider_request_id", "latency_s", "message"}
print(json.dumps({k: v for k, v in entry.items() if k not in varying}, indent=1))
print("request_id present:", bool(entry["request_id"]))
print("provider's request id:", entry["provider_request_id"])
print("same id in the usage log:", usage_log.rows()[-1].request_id == entry["request_id"])

# %% [markdown]
# Failures are logged too, with the error class and status, so you can count them. Here the
# simulated provider answers with an exhausted quota (a 429 that no retry can fix):

# %%
from course_helpers.errors import LLMError

with FakeProvider() as fake:
    fake.fail_next(429, quota=True)
    try:
        llm.complete("What is the capital of France?")
    except LLMError as exc:
        print("raised:", type(exc).__name__)

entry = json.loads(log_lines.getvalue().splitlines()[-1])
print({k: entry.get(k) for k in ("outcome", "error_class", "status", "attempts")})
print("request_id present:", bool(entry["request_id"]))

# %% [markdown]
# ## 7. Monitoring: the usage summary
#
# A log line per call is for investigating; a **summary** is for watching. A few more calls with
# both providers, then the totals per model:

# %%
claude_llm = LLMClient(model="claude-haiku-5-5", usage_log=usage_log)
for prompt in ("Tell me a joke", "Write a haiku about programming"):
    claude_llm.complete(prompt, max_tokens=200)
streamed = "".join(llm.stream("Count from 1 to 10"))

for row in usage_log.summary():
    print(
        f"{row['provider']:<10} {row['model']:<17} calls={row['calls']} errors={row['errors']} "
        f"tokens={row['tokens']:>3} cost=${row['cost_usd']:.6f}"
    )

# %% [markdown]
# The summary also has p50/p95 latency per model (they vary run to run, so they are not printed
# here; `usage_log.summary()` as a cell's last line shows the whole table). What to alert on:
#
# * the **error rate** per provider, and separately the 429s (rate limit vs quota: notebook 04);
# * **p95 latency** and time to first token: users feel the slow tail, not the average;
# * **cost per day** against your budget (`course_helpers.budget`), and tokens per call (a prompt
#   that suddenly doubles is a bug);
# * calls that needed retries or a fallback to another provider (notebook 06).

# %% [markdown]
# ## Key takeaways
#
# * Keys live in environment variables, loaded from `.env` locally and from a secret store in
#   production; `.env` is in `.gitignore`; only `.env.example` is committed.
# * Show keys masked (`sk-…wxyz`), never in full; scan before you push, and test that your scan
#   can find a key.
# * A leaked key is rotated (new key, deploy, revoke the old one), not just deleted from git.
# * Set timeouts per client or per request; the worst case is `(max_retries + 1) × timeout`
#   plus back-off.
# * Log one structured line per call with your request id and the provider's, never the content
#   or the key; summarise usage per model and alert on errors, p95 latency and cost.
#
# ## Next
#
# There is no auto-checked exercise for this notebook; its ideas are used in
# [`ex07_multi_provider`](../exercises/ex07_multi_provider.ipynb) (timeouts and fallbacks).
#
# Previous: [`06_integration_layer`](06_integration_layer.ipynb). Next:
# [`08_knowledge_check`](08_knowledge_check.ipynb): the module's Key Takeaways and Knowledge Check,
# five auto-checked questions, and the preview of Module 3.
