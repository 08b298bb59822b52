"""Answers to ex02_stream_collector: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

from typing import Any, NamedTuple

from wrong_answers.kinds import Demo, Right, Wrong


class Collected(NamedTuple):
    text: str
    input_tokens: int | None
    output_tokens: int | None


def _collect(provider: str, stream: Any, *, every_choice: bool = False) -> Collected:
    """Right, except that ``every_choice`` keeps the pieces of every choice of an n>1 stream."""
    pieces: list[str] = []
    inputs = outputs = None
    for item in stream:
        if provider == "openai":
            if item.usage is not None:
                inputs, outputs = item.usage.prompt_tokens, item.usage.completion_tokens
            for choice in item.choices:
                if (every_choice or choice.index == 0) and choice.delta.content:
                    pieces.append(choice.delta.content)
        elif item.type == "message_start":
            inputs = item.message.usage.input_tokens
        elif item.type == "content_block_delta" and item.delta.type == "text_delta":
            pieces.append(item.delta.text)
        elif item.type == "message_delta":
            outputs = item.usage.output_tokens
    return Collected("".join(pieces), inputs, outputs)


# ------------------------------------------------------------------------------ wrong answers
def collect_any_delta(provider: str, stream: Any) -> Collected:
    """Survives the usage chunk, but reads `.text` of every block delta (thinking has none)."""
    text, inputs, outputs = "", None, None
    for item in stream:
        if provider == "openai":
            if item.usage:
                inputs, outputs = item.usage.prompt_tokens, item.usage.completion_tokens
            if item.choices and item.choices[0].delta.content:
                text += item.choices[0].delta.content
        elif item.type == "message_start":
            inputs = item.message.usage.input_tokens
        elif item.type == "content_block_delta":
            text += item.delta.text
        elif item.type == "message_delta":
            outputs = item.usage.output_tokens
    return Collected(text, inputs, outputs)


def collect_swallowing_errors(provider: str, stream: Any) -> Collected:
    """Keeps whatever arrived when the stream breaks, and returns it as the answer."""
    pieces: list[str] = []
    inputs = outputs = None
    try:
        for item in stream:
            if provider == "openai":
                if item.usage is not None:
                    inputs, outputs = item.usage.prompt_tokens, item.usage.completion_tokens
                for choice in item.choices:
                    if choice.index == 0 and choice.delta.content:
                        pieces.append(choice.delta.content)
            elif item.type == "message_start":
                inputs = item.message.usage.input_tokens
            elif item.type == "content_block_delta" and item.delta.type == "text_delta":
                pieces.append(item.delta.text)
            elif item.type == "message_delta":
                outputs = item.usage.output_tokens
    except Exception:  # "a partial answer is better than none"
        pass
    return Collected("".join(pieces), inputs, outputs)


def collect_every_choice(provider: str, stream: Any) -> Collected:
    """Appends the content of every choice: an n=2 stream's answers come out interleaved."""
    return _collect(provider, stream, every_choice=True)


def collect_stripped(provider: str, stream: Any) -> Collected:
    """Tidies the answer with .strip()."""
    collected = _collect(provider, stream)
    return collected._replace(text=collected.text.strip())


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "reads .text of every block delta (thinking has none)",
        collect_any_delta,
        ["anthropic stream that starts with a thinking block"],
    ),
    (
        "a mid-stream error swallowed, the partial text returned",
        collect_swallowing_errors,
        ["a stream that breaks mid-way raises"],
    ),
    (
        "the choices of an n=2 stream interleaved",
        collect_every_choice,
        ["openai stream with two choices: choice 0's text"],
    ),
    ("the answer .strip()ped", collect_stripped, ["text kept exactly as streamed"]),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "collect_stream_naive",
    "chunk.choices[0]; message_start's usage",
    ["openai stream with usage: text and tokens", "anthropic stream: text and tokens"],
)


# ------------------------------------------------------------------------------ right answers
def collect_with_sdk_accumulators(provider: str, stream: Any) -> Collected:
    """`with stream:` and each SDK's own accumulator (MessageStream, ChatCompletionStreamState)."""
    if provider == "anthropic":
        from anthropic import NOT_GIVEN
        from anthropic.lib.streaming import MessageStream

        with MessageStream(stream, NOT_GIVEN) as events:
            message = events.get_final_message()
        text = "".join(block.text for block in message.content if block.type == "text")
        return Collected(text, message.usage.input_tokens, message.usage.output_tokens)
    from openai.lib.streaming.chat import ChatCompletionStreamState

    state = ChatCompletionStreamState()
    with stream:
        for chunk in stream:
            state.handle_chunk(chunk)
    # (get_final_completion() raises LengthFinishReasonError for a stream cut by max_tokens.)
    completion = state.current_completion_snapshot
    usage = completion.usage
    return Collected(
        completion.choices[0].message.content or "",
        None if usage is None else usage.prompt_tokens,
        None if usage is None else usage.completion_tokens,
    )


class StreamCollector:
    """Class-based: one handler per event type, `with stream:`, events read as plain dicts."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None

    def openai(self, chunk: dict[str, Any]) -> None:
        if chunk.get("usage"):
            self.input_tokens = chunk["usage"]["prompt_tokens"]
            self.output_tokens = chunk["usage"]["completion_tokens"]
        self.pieces += [
            c["delta"].get("content") or "" for c in chunk["choices"] if c["index"] == 0
        ]

    def message_start(self, event: dict[str, Any]) -> None:
        self.input_tokens = event["message"]["usage"]["input_tokens"]

    def content_block_delta(self, event: dict[str, Any]) -> None:
        if event["delta"]["type"] == "text_delta":
            self.pieces.append(event["delta"]["text"])

    def message_delta(self, event: dict[str, Any]) -> None:
        self.output_tokens = event["usage"]["output_tokens"]

    def __call__(self, provider: str, stream: Any) -> Collected:
        with stream:
            for item in stream:
                data = item.model_dump()
                name = "openai" if provider == "openai" else data["type"]
                handler = getattr(self, name, None)
                if handler is not None:
                    handler(data)
        return Collected("".join(self.pieces), self.input_tokens, self.output_tokens)


def collect_class_based(provider: str, stream: Any) -> Collected:
    return StreamCollector()(provider, stream)


# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = [
    ("`with stream:` and the SDKs' accumulators", collect_with_sdk_accumulators),
    ("class-based, `with stream:`, events as dicts", collect_class_based),
]
