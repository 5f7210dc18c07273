"""The search ranking on requests worded as users word them (bench/search_eval.json, read by
bench/search_bench.py too): the targets on the part used while tuning, a floor on the held-out part, and
the three requests issue 17 names."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from mcp import Client

from modelops_mcp.app.runtime import load_settings_catalog
from modelops_mcp.present.search import OperationIndex
from modelops_mcp.settings.config import Settings
from tests.support import RunningSandbox, assert_matches_output_schema, in_process, structured, text_of

BENCH = Path(__file__).resolve().parent.parent / "bench" / "search_bench.py"
# The held-out part was not looked at while tuning (only its totals were read); its figures are below the
# targets and stated as measured (recall@3 0.90, first 0.77): this floor only keeps them from getting worse.
HELD_OUT_FLOOR = {"recall_at_3": 0.90, "first": 0.76}


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("search_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> OperationIndex:
    catalog = load_settings_catalog(Settings(state_dir=tmp_path_factory.mktemp("state")))
    return OperationIndex(catalog.operations.values())


def top(index: OperationIndex, query: str, n: int = 3) -> list[str]:
    return [hit.operation.tool_name for hit in index.search(query, n)]


def test_the_evaluation_set_covers_every_backend_multi_step_and_deprecated_requests(index: OperationIndex) -> None:
    asked = bench().requests()
    names = {hit.operation.tool_name for hit in index.search("x", 0)} | set(index.relations.follows)
    assert len(asked) >= 60
    assert sum(r["split"] == "heldout" for r in asked) >= 20
    for request in asked:
        assert set(request["expect"]) | set(request.get("accept", [])) | set(request.get("below", [])) <= names
    expected = {n.split("_", 1)[0] for r in asked for n in r["expect"]}
    assert expected == {"caila", "training", "tunethemodel", "datarobot", "pieces"}
    assert any("dataset" in n for r in asked for n in r["expect"] if n.startswith("datarobot_"))
    assert {r["kind"] for r in asked} == {"single", "multi", "deprecated"}


def test_the_ranking_meets_the_targets_on_the_dev_requests_and_holds_its_floor_on_the_held_out(
    index: OperationIndex,
) -> None:
    module = bench()
    figures = module.evaluate(lambda q, n: top(index, q, n), module.requests())
    dev, held_out = figures["per_split"]["dev"], figures["per_split"]["heldout"]
    assert dev["recall_at_3"] >= module.TARGET_RECALL_AT_3, dev
    assert dev["first"] >= module.TARGET_FIRST, dev
    assert held_out["recall_at_3"] >= HELD_OUT_FLOOR["recall_at_3"], held_out
    assert held_out["first"] >= HELD_OUT_FLOOR["first"], held_out
    assert figures["all"]["deprecated_below"] == 1.0, figures["all"]


def test_the_requests_the_issue_names(index: OperationIndex) -> None:
    tuned = top(index, "fine-tune a sentiment classifier on Tune the Model")
    assert {"tunethemodel_upload_dataset", "tunethemodel_fit_model"} <= set(tuned)
    assert "training_update_config" in top(index, "configure epochs")
    versions = top(index, "create a new version of my datarobot custom model with training data", 25)
    current = versions.index("datarobot_create_custom_model_version")
    for deprecated in (
        "datarobot_create_custom_model_version_with_training_data",
        "datarobot_assign_custom_model_training_data",
    ):
        assert deprecated not in versions or versions.index(deprecated) > current


def test_deprecation_and_replacements_come_from_the_documents(index: OperationIndex) -> None:
    deprecated = index.relations.deprecated
    assert deprecated["datarobot_assign_custom_model_training_data"] == [
        "datarobot_create_custom_model_version",
        "datarobot_create_custom_model_version_from_latest",
    ]
    assert deprecated["datarobot_get_image_feature_impact"] == ["datarobot_get_feature_impact"]
    assert "datarobot_create_custom_model_version" not in deprecated


def test_what_follows_is_read_from_ids_jobs_and_sessions(index: OperationIndex) -> None:
    follows = index.relations.follows
    # A new custom model's id is what a version is made on; a version's ids are what a dependency build takes.
    assert follows["datarobot_create_custom_model"][0] == "datarobot_create_custom_model_version"
    assert "datarobot_start_dependency_build" in follows["datarobot_create_custom_model_version"]
    # A job is waited for; a session's key is what the Training Module's steps take.
    assert follows["caila_fit_service"][:2] == ["jobs_wait", "caila_get_job_status"]
    assert follows["training_start_session"][:2] == ["training_update_config", "training_upload_dataset"]
    # Nothing follows into a deletion or a deprecated operation.
    everything = {name for following in follows.values() for name in following}
    assert not {n for n in everything if "_delete_" in n} | (everything & set(index.relations.deprecated))


@pytest.mark.anyio
async def test_each_hit_shows_what_usually_follows_it_and_a_deprecated_one_its_replacement(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    async with (
        in_process(sandbox.env(), state_dir, discovery="search") as (server, _),
        Client(server, mode="legacy") as c,
    ):
        tools = {t.name: t for t in (await c.list_tools()).tools}
        query = {"query": "fine-tune a sentiment classifier on Tune the Model", "limit": 5}
        result = await c.call_tool("ops_search", query)
        assert_matches_output_schema(tools["ops_search"], result)
        hits = {op["name"]: op for op in structured(result)["operations"]}
        # Derived from the catalog: the uploaded file's id is what bind takes; a fit is a job to wait for.
        assert hits["tunethemodel_upload_dataset"]["next"] == ["tunethemodel_bind_datasets"]
        assert hits["tunethemodel_fit_model"]["next"][0] == "jobs_wait"
        assert "→ then: tunethemodel_bind_datasets" in text_of(result)

        old = await c.call_tool("ops_search", {"query": "assign training data to a custom model", "limit": 6})
        found = structured(old)["operations"]
        names = [op["name"] for op in found]
        deprecated = next(op for op in found if op["name"] == "datarobot_assign_custom_model_training_data")
        assert deprecated["deprecated_use"][0] == "datarobot_create_custom_model_version"
        assert names.index("datarobot_create_custom_model_version") < names.index(deprecated["name"])
        assert "[deprecated: use datarobot_create_custom_model_version" in text_of(old)
