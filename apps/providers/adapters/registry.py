"""The seed's ``ProviderRegistry``: provider name → adapter class. Pure Python."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import BaseProviderAdapter


class UnknownProvider(KeyError):
    def __str__(self) -> str:
        return f"Unknown provider: {self.args[0]!r}"


class ProviderRegistry:
    _adapters: dict[str, type[BaseProviderAdapter]] = {}

    @classmethod
    def register(cls, name: str, adapter_class: type[BaseProviderAdapter]) -> None:
        cls._adapters[name] = adapter_class

    @classmethod
    def adapter_class(cls, name: str) -> type[BaseProviderAdapter]:
        try:
            return cls._adapters[name]
        except KeyError:
            raise UnknownProvider(name) from None

    @classmethod
    def get_adapter(cls, name: str, **kwargs: Any) -> BaseProviderAdapter:
        """A new adapter instance; ``kwargs`` go to its constructor (api_key, transport, …)."""
        return cls.adapter_class(name)(**kwargs)

    @classmethod
    def list_adapters(cls) -> list[str]:
        return sorted(cls._adapters)
