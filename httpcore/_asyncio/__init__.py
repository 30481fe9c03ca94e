"""The asyncio bridge: `AsyncClient` runs the trio engine as a guest in the asyncio loop."""

from .client import AsyncClient

__all__ = ["AsyncClient"]
