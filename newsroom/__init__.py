"""A local news site on loopback addresses for tests, the demo and benchmarks."""

from palimpsest.newsroom.server import Newsroom

__all__ = ["Newsroom"]
