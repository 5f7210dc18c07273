"""Listed annotations leave out what the MCP spec already says (schema.ts 2025-11-25 and 2026-07-28:
idempotentHint defaults to false, openWorldHint to true; destructiveHint and idempotentHint are read only
when readOnlyHint is false): a client filling in the spec's defaults reads every operation's own hints."""

from __future__ import annotations

from pathlib import Path

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.settings.config import Settings
from modelops_mcp.surface.listing import listed_tools

DEFAULTS = {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}


def test_listed_hints_read_with_the_spec_defaults_are_the_operations_own(tmp_path: Path) -> None:
    catalog = load_settings_catalog(Settings(state_dir=tmp_path))
    listed = listed_tools(Settings(state_dir=tmp_path), catalog, dict(catalog.operations))
    by_name = {t.name: t for t in listed}
    dropped = 0
    for name, op in catalog.operations.items():
        own = op.annotations.model_dump(by_alias=True, exclude_none=True)
        annotations = by_name[name].annotations
        assert annotations is not None, name
        shown = annotations.model_dump(by_alias=True, exclude_none=True)
        dropped += len(set(own) - set(shown) - {"title"})
        # Said explicitly whatever the default: hosts key off readOnlyHint, and ask before a destructive call.
        assert "readOnlyHint" in shown, name
        assert shown["readOnlyHint"] or "destructiveHint" in shown, name
        read = {**DEFAULTS, **shown}
        for hint in ("readOnlyHint", "openWorldHint"):
            assert read[hint] == own.get(hint, DEFAULTS[hint]), (name, hint)
        if not own.get("readOnlyHint"):  # the spec reads these two only for a tool that writes
            for hint in ("destructiveHint", "idempotentHint"):
                assert read[hint] == own.get(hint, DEFAULTS[hint]), (name, hint)
    assert dropped > len(catalog.operations)  # most tools lose two hints or more
