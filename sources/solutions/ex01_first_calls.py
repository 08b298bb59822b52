# %% [markdown]
# # Exercise 01 · First calls: one answer from each provider, in one shape
#
# **Goal.** Call OpenAI and Anthropic with the same prompt and return both answers in one
# normalised shape: the text, the input and output tokens, and *why* the answer stopped. This is
# the first brick of every multi-provider layer, and it is where the two APIs differ most:
#
# | | OpenAI Chat Completions | Anthropic Messages |
# |---|---|---|
# | text | `reply.choices[0].message.content` | the `text` of the blocks in `message.content` |
# | tokens | `usage.prompt_tokens`, `.completion_tokens` | `usage.input_tokens`, `.output_tokens` |
# | finished | `finish_reason == "stop"` | `stop_reason == "end_turn"` (or `"stop_sequence"`) |
# | cut short | `finish_reason == "length"` | `stop_reason == "max_tokens"` |
# | `max_tokens` | optional (`max_completion_tokens`) | **required** |
#
# **The API you write.**
#
# ```python
# def ask_both(
#     openai_client, anthropic_client, prompt: str, *, max_tokens: int = 300
# ) -> dict[str, Answer]:
#     """Ask both providers `prompt`; return {"openai": Answer, "anthropic": Answer}.
#
#     One request to each provider: `prompt` as the user message, max_tokens passed to both.
#     Answer.text is the answer's text (Anthropic: the text blocks joined; the first block may
#     be a thinking block). The token counts are the usage the response reported.
#     Answer.stop_reason is "stop" when the model finished (a stop sequence included) and
#     "length" when max_tokens cut it short, as the API's own reason says.
#     """
# ```
#
# **How you are checked.** `check("ex01_first_calls", ask_both)` calls your function with clients
# pointed at the simulated provider, answering as real models do: usage counts that include
# reasoning or thinking tokens (a local estimate will not match them), an Anthropic answer that
# starts with a thinking block, an answer that finishes right at `max_tokens`, one stopped by a
# stop sequence, and one cut by a tiny `max_tokens`. It compares your answers with what went over
# the wire: the prompt and its role, the `max_tokens` each request carried, the exact texts, the
# usage and the stop reasons. Each [FAIL] says what was expected, what happened, and gives a hint.

# %%
from dataclasses import dataclass

from course_helpers import setup
from course_helpers.checks import check

course = setup()

OPENAI_MODEL = "gpt-5.4-mini"
ANTHROPIC_MODEL = "claude-haiku-5-5"


@dataclass
class Answer:
    """One provider's answer, in the same shape for both."""

    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str  # "stop" or "length"


# %% [markdown]
# ## What a check looks like
#
# Here is a first attempt that many people write: it copies each SDK's fields as they are. Run the
# check on it to see the panel: every line that fails says what was expected and what happened.


# %%
def ask_both_as_is(openai_client, anthropic_client, prompt, *, max_tokens=300):
    messages = [{"role": "user", "content": prompt}]
    reply = openai_client.chat.completions.create(model=OPENAI_MODEL, messages=messages)
    message = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=max_tokens, messages=messages
    )
    return {
        "openai": Answer(
            reply.choices[0].message.content,
            reply.usage.prompt_tokens,
            reply.usage.completion_tokens,
            reply.choices[0].finish_reason,
        ),
        "anthropic": Answer(
            message.content[0].text,
            message.usage.input_tokens,
            message.usage.output_tokens,
            message.stop_reason,
        ),
    }


check("ex01_first_calls", ask_both_as_is)

# %% [markdown]
# ## Your turn
#
# Write `ask_both`. Use the plain SDK calls (`openai_client.chat.completions.create`,
# `anthropic_client.messages.create`) with the models above.

# %%
STOP_REASONS = {
    "stop": "stop",  # openai: the model finished
    "end_turn": "stop",  # anthropic: the model finished
    "stop_sequence": "stop",  # anthropic: one of your stop sequences
    "length": "length",  # openai: max_completion_tokens reached
    "max_tokens": "length",  # anthropic: max_tokens reached
}


def ask_both(openai_client, anthropic_client, prompt, *, max_tokens=300):
    """Ask both providers `prompt`; return {"openai": Answer, "anthropic": Answer}."""
    ### BEGIN SOLUTION
    messages = [{"role": "user", "content": prompt}]
    reply = openai_client.chat.completions.create(
        model=OPENAI_MODEL, messages=messages, max_completion_tokens=max_tokens
    )
    choice = reply.choices[0]
    message = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=max_tokens, messages=messages
    )
    text = "".join(block.text for block in message.content if block.type == "text")
    return {
        "openai": Answer(
            choice.message.content or "",
            reply.usage.prompt_tokens,
            reply.usage.completion_tokens,
            STOP_REASONS.get(choice.finish_reason, choice.finish_reason),
        ),
        "anthropic": Answer(
            text,
            message.usage.input_tokens,
            message.usage.output_tokens,
            STOP_REASONS.get(message.stop_reason, message.stop_reason),
        ),
    }
    ### END SOLUTION


# %%
check("ex01_first_calls", ask_both)

# %% [markdown]
# ## Takeaways
#
# * The two APIs say the same things with different names; normalise once, at the edge.
# * `content[0].text` assumes the first block is text: join the text blocks instead.
# * Token counts come from `usage`, never from a local estimate: the bill counts tokens you
#   cannot see (reasoning, thinking). The stop reason comes from the API, never from counting.
# * Anthropic refuses a request without `max_tokens`; pass the same limit to both.
#
# **Next:** [ex02 · Stream collector](ex02_stream_collector.ipynb).
