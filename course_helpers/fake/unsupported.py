"""What the simulated provider does not simulate, refused with an error that names it.

A feature the fake ignored would answer 200 with prose, and the failure would surface far away (no
``tool_calls``, ``json_invalid`` in ``.parse()``, no thinking block). So every request that asks
for something the fake cannot do — another endpoint, extended thinking, logprobs, audio, a server
tool — gets the provider's own error shape, with a message that names the feature and says that
it needs a live key. The dialects call these from their validation and their 404s.

>>> endpoint_feature("openai", "/v1/embeddings")
'embeddings'
>>> openai_chat_problem({"logprobs": True})[1]
'logprobs'
>>> anthropic_problem({"thinking": {"type": "enabled", "budget_tokens": 2000}})[:39]
'thinking: extended thinking is not simu'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = [
    "CODE",
    "anthropic_problem",
    "endpoint_feature",
    "needs_live_key",
    "openai_chat_problem",
]

ProviderName = Literal["openai", "anthropic"]

CODE = "not_simulated"
"""The ``error.code`` of an OpenAI refusal from this module (the real API never sends it)."""

_KEY_VARS: dict[ProviderName, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}

# first path segment after /v1/ -> the feature's name
_OPENAI_ENDPOINTS = {
    "embeddings": "embeddings",
    "images": "image generation",
    "audio": "audio (speech and transcription)",
    "files": "files",
    "uploads": "file uploads",
    "batches": "the Batch API",
    "realtime": "the Realtime API",
    "moderations": "moderations",
    "fine_tuning": "fine-tuning",
    "assistants": "the Assistants API",
    "threads": "the Assistants API",
    "vector_stores": "vector stores",
    "completions": "the legacy Completions API",
    "videos": "video generation",
    "containers": "containers",
    "conversations": "the Conversations API",
    "evals": "evals",
}
_ANTHROPIC_ENDPOINTS = {
    "messages/batches": "Message Batches",
    "files": "files",
    "complete": "the legacy Text Completions API",
    "skills": "skills",
    "organizations": "the Admin API",
}


def needs_live_key(provider: ProviderName, what: str) -> str:
    """The sentence every refusal ends with: what is missing, and how to get it."""
    return (
        f"{what} is not simulated by the course's simulated provider: it needs a live key "
        f"(put {_KEY_VARS[provider]} in .env and run setup() again)."
    )


def endpoint_feature(provider: ProviderName, path: str) -> str | None:
    """The feature a real but not simulated endpoint offers (``None``: not a known endpoint)."""
    rest = path.rstrip("/").removeprefix("/v1/")
    if provider == "openai":
        return _OPENAI_ENDPOINTS.get(rest.split("/", 1)[0])
    for prefix, feature in _ANTHROPIC_ENDPOINTS.items():
        if rest == prefix or rest.startswith(prefix + "/"):
            return feature
    return None


def openai_chat_problem(body: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """``(message, param, code)`` for a chat completion that asks for a feature not simulated."""
    wanted: list[tuple[str, str]] = []
    if body.get("logprobs") or body.get("top_logprobs") is not None:
        wanted.append(("logprobs" if body.get("logprobs") else "top_logprobs", "logprobs"))
    modalities = body.get("modalities")
    if body.get("audio") is not None or (isinstance(modalities, list) and "audio" in modalities):
        wanted.append(("audio" if body.get("audio") is not None else "modalities", "audio output"))
    if body.get("web_search_options") is not None:
        wanted.append(("web_search_options", "web search"))
    if body.get("functions") is not None or body.get("function_call") is not None:
        param = "functions" if body.get("functions") is not None else "function_call"
        wanted.append((param, "legacy function calling (send tools and tool_choice instead)"))
    if body.get("prediction") is not None:
        wanted.append(("prediction", "predicted outputs"))
    tools = body.get("tools")
    if isinstance(tools, list):
        for index, tool in enumerate(tools):
            kind = tool.get("type") if isinstance(tool, Mapping) else None
            if kind not in (None, "function"):
                wanted.append((f"tools[{index}].type", f"the {kind!s} tool type"))
                break
    if not wanted:
        return None
    param, feature = wanted[0]
    return needs_live_key("openai", f"'{param}': {feature}"), param, CODE


def anthropic_problem(body: Mapping[str, Any]) -> str | None:
    """The message for a Messages request that asks for a feature not simulated."""
    thinking = body.get("thinking")
    if isinstance(thinking, Mapping) and thinking.get("type") not in (None, "disabled"):
        return "thinking: " + needs_live_key("anthropic", "extended thinking")
    if body.get("mcp_servers"):
        return "mcp_servers: " + needs_live_key("anthropic", "the MCP connector")
    if body.get("container") is not None:
        return "container: " + needs_live_key("anthropic", "code execution containers")
    tools = body.get("tools")
    if isinstance(tools, list):
        for index, tool in enumerate(tools):
            kind = tool.get("type") if isinstance(tool, Mapping) else None
            if kind not in (None, "custom"):
                return f"tools.{index}: " + needs_live_key("anthropic", f"the server tool {kind!s}")
    return None
