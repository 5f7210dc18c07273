"""The listing memo (listing._LISTED, _SHOWN): a process that opens many runtimes gets the same tools as a
fresh build, each caller its own copy, and a catalog with a document of the user's own is never memoised."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import mcp_types as types

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.settings.config import Settings
from modelops_mcp.surface import listing


def _dumped(tools: list[types.Tool]) -> str:
    return json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools], sort_keys=True)


def test_a_memoised_listing_equals_a_fresh_build_and_is_a_copy(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, schema_paths=[])
    catalog = load_settings_catalog(settings)
    assert catalog.fingerprint is not None
    listing._LISTED.clear()
    listing._SHOWN.clear()
    fresh = listing.listed_tools(settings, catalog, dict(catalog.operations))
    assert listing._LISTED  # the build was kept
    again_catalog = load_settings_catalog(settings)
    memoised = listing.listed_tools(settings, again_catalog, dict(again_catalog.operations))
    assert _dumped(memoised) == _dumped(fresh)
    memoised[0].description = "changed by one caller"
    memoised[0].input_schema["properties"].clear()
    third = listing.listed_tools(settings, again_catalog, dict(again_catalog.operations))
    assert _dumped(third) == _dumped(fresh)
    shown = listing.shown_output_schemas(settings, catalog)
    shown.clear()
    assert listing.shown_output_schemas(settings, catalog)


def test_another_exposure_or_mode_is_its_own_entry(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, schema_paths=[])
    catalog = load_settings_catalog(settings)
    every = listing.listed_tools(settings, catalog, dict(catalog.operations))
    caila = {name: op for name, op in catalog.operations.items() if op.backend == "caila"}
    only = listing.listed_tools(settings, catalog, caila)
    assert {t.name for t in only} == set(caila) | {t.name for t in every if t.name.startswith("jobs_")}
    full = Settings(state_dir=tmp_path, schema_paths=[], output_schemas="full")
    full_listed = listing.listed_tools(full, catalog, caila)
    assert _dumped(full_listed) != _dumped(only)


def test_a_catalog_with_a_users_document_is_not_memoised(tmp_path: Path) -> None:
    source = files("modelops_mcp") / "schemas" / "caila.json"
    extra = tmp_path / "mine.json"
    document = json.loads(source.read_text().replace('"caila_', '"mine_'))  # its tools' names
    document["x-mcp"]["backend"] = "mine"
    extra.write_text(json.dumps(document))
    settings = Settings(state_dir=tmp_path, schema_paths=[extra])
    catalog = load_settings_catalog(settings)
    assert catalog.fingerprint is None
    listing._LISTED.clear()
    listing.listed_tools(settings, catalog, dict(catalog.operations))
    assert not listing._LISTED
