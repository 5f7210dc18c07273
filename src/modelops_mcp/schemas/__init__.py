"""The bundled OpenAPI 3.1 documents, one per backend (package data, read by `spec.load`)."""

from importlib.resources import files
from importlib.resources.abc import Traversable


def bundled_documents() -> list[Traversable]:
    """Every `*.json` document shipped in this package, sorted by name so the tool order is stable."""
    root = files(__name__)
    return sorted((p for p in root.iterdir() if p.name.endswith(".json")), key=lambda p: p.name)
