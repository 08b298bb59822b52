"""With no keys anywhere, the providers' own documentation snippets run unchanged after setup().

Run as a plain Python script in a fresh interpreter (no pytest, no notebook), exactly as a learner
would: the only course-specific lines are the first two.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    from course_helpers import setup
    setup()

    # --- OpenAI's quickstart, unchanged
    from openai import OpenAI

    client = OpenAI()
    completion = client.chat.completions.create(
        model="gpt-5.4-mini",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
    )
    print("openai:", completion.choices[0].message.content)

    stream = client.chat.completions.create(
        model="gpt-5.4-mini",
        messages=[{"role": "user", "content": "Count from 1 to 10"}],
        stream=True,
    )
    print("openai stream:", "".join(c.choices[0].delta.content or "" for c in stream if c.choices))

    raw = client.chat.completions.with_raw_response.create(
        model="gpt-5.4-mini", messages=[{"role": "user", "content": "Say hello"}]
    )
    print("openai headers:", raw.headers.get("x-ratelimit-remaining-requests"), raw.request_id[:4])
    print("openai parsed:", raw.parse().choices[0].message.content)

    # --- Anthropic's quickstart, unchanged
    import anthropic

    claude = anthropic.Anthropic()
    message = claude.messages.create(
        model="claude-haiku-5-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
    )
    print("anthropic:", message.content[0].text)

    with claude.messages.stream(
        model="claude-haiku-5-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "Count from 1 to 10"}],
    ) as stream:
        print("anthropic stream:", "".join(stream.text_stream))

    raw = claude.messages.with_raw_response.create(
        model="claude-haiku-5-5", max_tokens=64, messages=[{"role": "user", "content": "Say hello"}]
    )
    print("anthropic headers:", raw.headers.get("anthropic-ratelimit-requests-remaining"))
    """
)


def test_documentation_snippets_run_offline_in_a_plain_script(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.endswith("_API_KEY") or k.startswith(("OPENAI_", "ANTHROPIC_", "COURSE_")))
    }
    env["COURSE_FAKE_LATENCY"] = "0"
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "OpenAI     simulated" in out and "Anthropic  simulated" in out
    for provider in ("openai", "anthropic"):  # sampled: any of the book's answers, all say Paris
        assert re.search(rf"^{provider}: [^\n]*\bParis\b", out, re.MULTILINE), out
    for provider in ("openai", "anthropic"):
        streamed = out.split(f"{provider} stream:", 1)[1].split(" headers:", 1)[0]
        assert re.findall(r"\d+", streamed) == [str(n) for n in range(1, 11)], streamed
    # 10,000 requests a minute, three sent: how much refilled in between depends on timing, so
    # the header is anything from 9,997 (nothing refilled) to 9,999 (full again, minus this one).
    remaining = re.search(r"openai headers: (\d+) req_", out)
    assert remaining is not None, out
    assert 9_997 <= int(remaining.group(1)) <= 9_999
    assert "anthropic headers: " in out and "anthropic headers: None" not in out
