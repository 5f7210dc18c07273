"""modelops-mcp: an MCP server for fine-tunes and model operations, one typed tool per documented operation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("modelops-mcp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
