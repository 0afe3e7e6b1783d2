"""Spiders only route: they turn URLs into requests and responses into FetchedPage items."""
