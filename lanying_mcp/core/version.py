"""The package version: one place, read by the package, the CLI, the HTTP client's User-Agent and doctor."""

__version__ = "0.1.0"
