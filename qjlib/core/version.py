"""The version of qjlib, recorded in every manifest and package cache key."""

__version__ = "0.1.0"
