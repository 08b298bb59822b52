# %% [markdown]
# # Exercise 02 · Stream collector: text and usage from either provider's stream
#
# **Goal.** Streaming shows the answer as it is written, but at the end you still need the whole
# text and the token counts (for the bill, the budget, the log). Write one function that reads a
# raw stream from either SDK and returns both. The traps are real and well known:
#
# * **OpenAI**, with `stream_options={"include_usage": True}`, ends with a *usage-only chunk*
#   whose `choices` list is **empty**: `chunk.choices[0]` raises `IndexError` at the very end.
#   Its first chunk carries only the role (`delta.content == ""`), and the finish chunk has no
#   content at all (`None`). Without `include_usage`, no chunk reports usage.
# * **Anthropic** sends typed events: `message_start` (input tokens; its output count is a
#   placeholder), `content_block_start` / `content_block_delta` / `content_block_stop` per block
#   (a block may be *thinking*, not text), `message_delta` (the final output tokens and the stop
#   reason) and `message_stop`; the SDK drops the `ping` keep-alives for you.
#
# **The API you write.**
#
# ```python
# def collect_stream(provider: str, stream) -> Collected:
#     """Read a raw stream ("openai" or "anthropic") to the end; return its text and usage.
#
#     The text is exactly what was streamed (no stripping); for an OpenAI stream with several
#     choices (n=2), choice 0's. Collected.input_tokens / output_tokens are the usage the stream
#     reported, None when it reported none. A stream that breaks before its end (an error
#     event, a dropped connection) raises: its partial text is not an answer.
#     """
# ```
#
# `stream` is what `create(..., stream=True)` returns (an `openai.Stream` or `anthropic.Stream`):
# `with stream:` and the SDKs' own helpers work on it.
#
# **How you are checked.** `check("ex02_stream_collector", collect_stream)` hands your function
# real SDK streams from the simulated provider: OpenAI with and without `include_usage`, with two
# choices, streams cut by `max_tokens` or by a stop sequence (the text then ends with a space),
# Anthropic streams, one whose first block is thinking, and streams that break mid-way on either
# provider. The text must equal what the stream carried, and the counts the usage it reported
# (which include reasoning or thinking tokens: a local estimate will not match them).

# %%
from typing import NamedTuple

from course_helpers import setup
from course_helpers.checks import check

course = setup()


class Collected(NamedTuple):
    """A stream read to the end."""

    text: str
    input_tokens: int | None
    output_tokens: int | None


# %% [markdown]
# ## What a check looks like
#
# The collector below is what most streaming tutorials print. It works on a plain OpenAI stream,
# then meets the usage-only chunk. Run the check to see which streams it survives.


# %%
def collect_stream_naive(provider, stream):
    text, usage = "", None
    for chunk in stream:
        if provider == "openai":
            text += chunk.choices[0].delta.content or ""
            usage = chunk.usage
        else:
            if chunk.type == "content_block_delta":
                text += chunk.delta.text
            if chunk.type == "message_start":
                usage = chunk.message.usage
    if usage is None:
        return Collected(text, None, None)
    if provider == "openai":
        return Collected(text, usage.prompt_tokens, usage.completion_tokens)
    return Collected(text, usage.input_tokens, usage.output_tokens)


check("ex02_stream_collector", collect_stream_naive)

# %% [markdown]
# ## Your turn
#
# Write `collect_stream`. Look at each chunk's or event's shape before you index into it.


# %%
def collect_stream(provider, stream):
    """Read a raw stream ("openai" or "anthropic") to the end; return its text and usage."""
    ### BEGIN SOLUTION
    pieces, input_tokens, output_tokens = [], None, None
    if provider == "openai":
        for chunk in stream:
            if chunk.usage is not None:  # the usage-only last chunk (choices == [])
                input_tokens = chunk.usage.prompt_tokens
                output_tokens = chunk.usage.completion_tokens
            for choice in chunk.choices:
                if choice.index == 0 and choice.delta.content:
                    pieces.append(choice.delta.content)
    elif provider == "anthropic":
        for event in stream:
            if event.type == "message_start":
                input_tokens = event.message.usage.input_tokens
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                pieces.append(event.delta.text)
            elif event.type == "message_delta":
                output_tokens = event.usage.output_tokens
    else:
        raise ValueError(f"unknown provider {provider!r}: use 'openai' or 'anthropic'")
    return Collected("".join(pieces), input_tokens, output_tokens)
    ### END SOLUTION


# %%
check("ex02_stream_collector", collect_stream)

# %% [markdown]
# ## Takeaways
#
# * Never index `chunk.choices[0]` blindly: the usage chunk has no choices.
# * Anthropic's counts arrive in two places: input in `message_start`, output in `message_delta`.
# * Take text only from `text_delta`s: thinking and tool-use blocks stream through the same events.
# * A stream that breaks half-way is an error, not a shorter answer: let the exception out.
#
# **Next:** [ex03 · Classify errors](ex03_classify_errors.ipynb).
