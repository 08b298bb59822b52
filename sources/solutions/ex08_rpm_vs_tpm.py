# %% [markdown]
# # Exercise 08 · RPM vs TPM: which limit binds?
#
# **Goal.** Every account has two limits per minute: requests (RPM) and tokens (TPM). Which one
# stops you depends on your requests. Providers charge a request, the moment it arrives, its
# prompt tokens **plus its `max_tokens`** (they cannot know yet how long the answer will be), so
# a generous `max_tokens` eats the token limit even when answers are short.
#
# **The API you write.**
#
# ```python
# def binding_limit(rpm: int, tpm: int, prompt_tokens: int, max_tokens: int) -> tuple[str, int]:
#     """("rpm" or "tpm", the most requests a minute both limits allow).
#
#     Each request is charged prompt_tokens + max_tokens tokens. The count is a whole number of
#     requests, rounded down (3.75 allows 3). "tpm" means the tokens bind: fewer tokens per
#     request would allow more requests. On a tie (both allow the same number) that is not so,
#     and the answer is "rpm".
#     """
# ```
#
# **How you are checked.** `check("ex08_rpm_vs_tpm", binding_limit)` tries long and short
# prompts, a large `max_tokens`, fractions that must round down, ties, and finally asks the
# simulated provider: with your answer's limits it sends a burst and counts how many requests
# get through before the first 429. Your number must match.

# %%
from course_helpers import setup
from course_helpers.checks import check

course = setup()

# %% [markdown]
# ## What a check looks like
#
# A tempting shortcut counts only the prompt (the answer "will be short anyway"):


# %%
def binding_limit_prompt_only(rpm, tpm, prompt_tokens, max_tokens):
    by_tokens = tpm // prompt_tokens
    return ("tpm", by_tokens) if by_tokens < rpm else ("rpm", rpm)


check("ex08_rpm_vs_tpm", binding_limit_prompt_only)

# %% [markdown]
# ## Your turn


# %%
def binding_limit(rpm, tpm, prompt_tokens, max_tokens):
    """("rpm" or "tpm", the most requests a minute both limits allow)."""
    ### BEGIN SOLUTION
    by_tokens = tpm // (prompt_tokens + max_tokens)
    if by_tokens < rpm:
        return "tpm", by_tokens
    return "rpm", rpm
    ### END SOLUTION


# %%
check("ex08_rpm_vs_tpm", binding_limit)

# %% [markdown]
# ## Takeaways
#
# * Requests per minute allowed = min(RPM, TPM // (prompt + max_tokens)).
# * Set `max_tokens` to what you need, not to the model's maximum: it is charged up front.
# * A limiter must count tokens too (ex05), or the token limit answers with 429s.
#
# **Next:** the [knowledge check](../notebooks/08_knowledge_check.ipynb).
