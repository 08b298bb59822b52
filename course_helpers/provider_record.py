"""One record per provider: the outside facts every layer needs, written down once.

The client routes by ``name``, error messages name ``label`` and ``key_variable`` and send an
empty account to ``billing_url``, setup and the adapters look for a key in ``key_variables``, and
an error without an SDK class is attributed by its URL's host. Change a fact here and every
layer follows; add a provider here first.

>>> PROVIDER_RECORDS["anthropic"].key_variables
('ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN')
>>> provider_for_host("api.openai.com")
'openai'

A leaf module: it imports nothing from the course, so anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "PROVIDERS",
    "PROVIDER_RECORDS",
    "ProviderName",
    "ProviderRecord",
    "provider_for_host",
]

ProviderName = Literal["openai", "anthropic"]
PROVIDERS: tuple[ProviderName, ...] = get_args(ProviderName)


@dataclass(frozen=True)
class ProviderRecord:
    """What the course knows about one provider that does not come from its SDK's types.

    ``key_variables`` are the environment variables the provider's SDK takes a credential from,
    in the order the course recommends them: the first is the one to put in ``.env``; any one of
    them is enough (Anthropic's SDK also accepts a bearer token in ``ANTHROPIC_AUTH_TOKEN``).
    """

    name: ProviderName
    label: str
    key_variables: tuple[str, ...]
    base_url_variable: str
    host: str
    billing_url: str

    @property
    def key_variable(self) -> str:
        """The variable to tell a learner to set."""
        return self.key_variables[0]

    def serves(self, host: str) -> bool:
        """Whether ``host`` is this provider's (``api.openai.com``, or any ``*.openai.com``)."""
        domain = self.host.removeprefix("api.")
        return host == domain or host.endswith("." + domain)


PROVIDER_RECORDS: dict[ProviderName, ProviderRecord] = {
    "openai": ProviderRecord(
        name="openai",
        label="OpenAI",
        key_variables=("OPENAI_API_KEY",),
        base_url_variable="OPENAI_BASE_URL",
        host="api.openai.com",
        billing_url="https://platform.openai.com/settings/organization/billing",
    ),
    "anthropic": ProviderRecord(
        name="anthropic",
        label="Anthropic",
        key_variables=("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
        base_url_variable="ANTHROPIC_BASE_URL",
        host="api.anthropic.com",
        billing_url="https://console.anthropic.com/settings/billing",
    ),
}


def provider_for_host(host: str) -> ProviderName | None:
    """The provider whose host ``host`` is, or ``None`` (a proxy, the relay, anything else)."""
    for record in PROVIDER_RECORDS.values():
        if record.serves(host):
            return record.name
    return None
