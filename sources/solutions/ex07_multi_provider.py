# %% [markdown]
# # Exercise 07 · A multi-provider client with fallback
#
# **Goal.** When one provider has an outage, a second provider is the best retry there is. Write
# a small client that sends each prompt to a *primary* model and, only when that fails in a way
# the other provider can avoid (overloaded, 5xx, rate limited, timed out, connection lost), to a
# *fallback* model at the other provider. It picks the provider from the model name, so
# `MultiClient("claude-haiku-5-5", "gpt-5.4-mini", ...)` asks Anthropic first.
#
# Do not fall back on a request that is itself wrong (a 400, an invalid parameter, a 404 for a
# mistyped model name): the fallback would hide the bug, or fail the same way. Send the prompt
# as the user message, and `max_tokens`, to whichever model you ask.
#
# **The API you write.**
#
# ```python
# class MultiClient:
#     def __init__(self, primary: str, fallback: str, *, openai_client, anthropic_client): ...
#     def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
#         """Ask the primary model, or the fallback on a retriable failure.
#
#         Returns (provider, text): provider is "openai" or "anthropic". Raises when the
#         primary fails for good or when both fail.
#         """
# ```
#
# `course_helpers.catalog.provider_for(model)` says which provider serves a model, and
# `course_helpers.errors.classify(exc).retriable` whether a failure is worth another try.
#
# **How you are checked.** `check("ex07_multi_provider", MultiClient)` builds your client with
# clients for the simulated provider (their own retries off) and checks the routing (a `gpt`
# model and `o4-mini` to OpenAI, a `claude` model to Anthropic), the prompt and `max_tokens`
# each request carried, that the text returned is the text the provider answered, the fallback
# under 429/5xx at OpenAI, 529/5xx/429 at Anthropic, a dropped connection and a timeout at
# either, no fallback on a 400 or on a mistyped model's 404, and an error when both are down.

# %%
from course_helpers import setup
from course_helpers.catalog import provider_for
from course_helpers.checks import check
from course_helpers.errors import classify

course = setup()

# %% [markdown]
# ## What a check looks like
#
# A common first version falls back on *any* exception. Run the check on it.


# %%
class MultiClientAnyError:
    def __init__(self, primary, fallback, *, openai_client, anthropic_client):
        self.models = (primary, fallback)
        self.clients = {"openai": openai_client, "anthropic": anthropic_client}

    def ask(self, model, prompt, max_tokens):
        messages = [{"role": "user", "content": prompt}]
        if provider_for(model) == "openai":
            reply = self.clients["openai"].chat.completions.create(
                model=model, messages=messages, max_completion_tokens=max_tokens
            )
            return "openai", reply.choices[0].message.content
        message = self.clients["anthropic"].messages.create(
            model=model, messages=messages, max_tokens=max_tokens
        )
        return "anthropic", message.content[0].text

    def complete(self, prompt, *, max_tokens=200):
        try:
            return self.ask(self.models[0], prompt, max_tokens)
        except Exception:
            return self.ask(self.models[1], prompt, max_tokens)


check("ex07_multi_provider", MultiClientAnyError)

# %% [markdown]
# ## Your turn


# %%
class MultiClient:
    """A primary model, and a fallback model at the other provider for outages."""

    def __init__(self, primary, fallback, *, openai_client, anthropic_client):
        ### BEGIN SOLUTION
        self.primary, self.fallback = primary, fallback
        self.clients = {"openai": openai_client, "anthropic": anthropic_client}
        for model in (primary, fallback):
            if provider_for(model) not in self.clients:
                raise ValueError(f"no provider serves {model!r}: check the model name")
        ### END SOLUTION

    def complete(self, prompt, *, max_tokens=200):
        """Ask the primary model, or the fallback on a retriable failure: (provider, text)."""
        ### BEGIN SOLUTION
        try:
            return self._ask(self.primary, prompt, max_tokens)
        except Exception as exc:
            if not classify(exc).retriable:
                raise  # the request itself is wrong: the fallback cannot fix it
        return self._ask(self.fallback, prompt, max_tokens)
        ### END SOLUTION

    def _ask(self, model, prompt, max_tokens):
        """(provider, text) from one request to `model`, at the provider that serves it."""
        ### BEGIN SOLUTION
        provider = provider_for(model)
        messages = [{"role": "user", "content": prompt}]
        if provider == "openai":
            reply = self.clients["openai"].chat.completions.create(
                model=model, messages=messages, max_completion_tokens=max_tokens
            )
            return provider, reply.choices[0].message.content or ""
        message = self.clients["anthropic"].messages.create(
            model=model, messages=messages, max_tokens=max_tokens
        )
        return provider, "".join(block.text for block in message.content if block.type == "text")
        ### END SOLUTION


# %%
check("ex07_multi_provider", MultiClient)

# %% [markdown]
# ## Takeaways
#
# * Route by model name in one place; the rest of the code never says "openai" or "anthropic".
# * Fall back on outages, not on mistakes: a 400 must reach the developer, not be papered over.
# * `course_helpers.client.LLMClient` does all of this with retries, a limiter and a budget.
#
# **Next:** [ex08 · RPM vs TPM](ex08_rpm_vs_tpm.ipynb).
