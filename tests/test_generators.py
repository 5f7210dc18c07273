"""The bundled schema documents are what scripts/ generate: DataRobot's from the seed plus recorded adjustments,
Tune the Model's from its curated source, the toolset tags of all five from tag_toolsets.py.

The DataRobot and Tune the Model checks read the seeds' copies in scripts/sources/ (CI also checks those against
shared/ and regenerates from shared/ itself); MODELOPS_SHARED names another copy. Without their input these tests
fail and say so: a check that passes without its input would prove nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
SCHEMAS = ROOT / "src" / "modelops_mcp" / "schemas"
SHARED = Path(os.environ.get("MODELOPS_SHARED", ROOT / "scripts" / "sources"))
SEED = SHARED / "seeds" / "003_86e9bcfdbd582f67.txt"


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args], capture_output=True, text=True, timeout=60, check=False
    )


def require_shared() -> None:
    assert SEED.is_file(), (
        f"the DataRobot seed is not at {SEED}: it ships in scripts/sources/seeds/; "
        "MODELOPS_SHARED, when set, must name a folder with seeds/ in it"
    )


def load_script(name: str) -> ModuleType:
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPTS))


def test_datarobot_document_is_the_seed_plus_recorded_adjustments() -> None:
    require_shared()
    result = run("gen_datarobot.py", "--check")
    assert result.returncode == 0, result.stderr
    assert "adjustments give the committed document" in result.stdout


def test_every_datarobot_adjustment_says_why() -> None:
    entries = json.loads((SCRIPTS / "datarobot_adjustments.json").read_text(encoding="utf-8"))
    assert entries, "the committed document has hand edits (jobs, file sets, the status route)"
    for entry in entries:
        assert entry["op"] in ("add", "replace", "remove"), entry
        assert isinstance(entry.get("why"), str), entry
        assert len(entry["why"]) > 20, entry


def test_a_hand_edit_fails_the_check_until_recorded(tmp_path: Path) -> None:
    """What the lead does at a merge: new operations and a changed description in the committed document are
    reported by --check, turned into adjustments by --record, and then the check passes."""
    require_shared()
    document, recorded = tmp_path / "datarobot.json", tmp_path / "adjustments.json"
    recorded.write_text((SCRIPTS / "datarobot_adjustments.json").read_text(encoding="utf-8"), encoding="utf-8")
    before = len(json.loads(recorded.read_text(encoding="utf-8")))
    doc = json.loads((SCHEMAS / "datarobot.json").read_text(encoding="utf-8"))
    # A new path between existing ones (paths are in the seed's order), a new toolset, a changed description.
    paths = list(doc["paths"].items())
    at = next(i for i, (path, _) in enumerate(paths) if path.startswith("/executionEnvironments"))
    new_op = {"get": {"operationId": "listWidgets", "summary": "List widgets.", "responses": {"200": {}}}}
    doc["paths"] = dict([*paths[:at], ("/widgets/", new_op), *paths[at:]])
    doc["tags"].append({"name": "widgets", "description": "Widgets."})
    test = doc["paths"]["/customModelTests/"]["post"]
    test["description"] = "Needs a widget from datarobot_list_widgets."
    document.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    options = ("--document", str(document), "--adjustments", str(recorded))

    failed = run("gen_datarobot.py", "--check", *options)
    assert failed.returncode == 1
    assert "/paths/~1widgets~1" in failed.stderr, failed.stderr
    assert "/paths/~1customModelTests~1/post/description" in failed.stderr, failed.stderr
    assert "--record" in failed.stderr

    recording = run("gen_datarobot.py", "--record", "DataRobot widgets (a made-up hand edit)", *options)
    assert recording.returncode == 0, recording.stderr
    entries = json.loads(recorded.read_text(encoding="utf-8"))
    new = entries[before:]
    assert {e["path"] for e in new} == {
        "/paths/~1widgets~1",
        "/tags/-",
        "/paths/~1customModelTests~1/post/description",
    }
    assert all(e["why"] == "DataRobot widgets (a made-up hand edit)" for e in new)
    assert next(e for e in new if e["path"] == "/paths/~1widgets~1")["after"] == paths[at - 1][0]

    passed = run("gen_datarobot.py", "--check", *options)
    assert passed.returncode == 0, passed.stderr
    # The untouched committed document still checks against the untouched adjustments.
    assert run("gen_datarobot.py", "--check").returncode == 0


def test_record_without_a_reason_is_refused(tmp_path: Path) -> None:
    require_shared()
    document, recorded = tmp_path / "datarobot.json", tmp_path / "adjustments.json"
    document.write_text((SCHEMAS / "datarobot.json").read_text(encoding="utf-8").replace("List", "Lists", 1))
    recorded.write_text((SCRIPTS / "datarobot_adjustments.json").read_text(encoding="utf-8"), encoding="utf-8")
    result = run("gen_datarobot.py", "--record", " ", "--document", str(document), "--adjustments", str(recorded))
    assert result.returncode == 2
    assert recorded.read_text(encoding="utf-8") == (SCRIPTS / "datarobot_adjustments.json").read_text(encoding="utf-8")


def test_a_missing_seed_is_named() -> None:
    result = run("gen_datarobot.py", "--check", "--seed", "/nonexistent/003.txt")
    assert result.returncode == 2
    assert "seed not found: /nonexistent/003.txt" in result.stderr
    assert "MODELOPS_SHARED" in result.stderr


def test_tunethemodel_document_is_its_curated_source() -> None:
    require_shared()
    result = run("gen_tunethemodel.py", "--check")
    assert result.returncode == 0, result.stderr
    bind = json.loads((SCHEMAS / "tunethemodel.json").read_text(encoding="utf-8"))["paths"][
        "/v0/models/{model_id}/bind"
    ]
    # The service binds files that are still loading (the official client binds right after uploading).
    assert "FileReady" not in bind["post"]["description"]
    assert "still be loading" in bind["post"]["description"]


def test_tunethemodel_source_covers_every_route_and_status_the_seed_and_api_facts_name() -> None:
    require_shared()
    gen = load_script("gen_tunethemodel")
    seed, facts = (SHARED / gen.SEED).read_text(encoding="utf-8"), (SHARED / gen.FACTS).read_text(encoding="utf-8")
    assert gen.routes_named(seed, "## Tune the Model\n") == {  # the seed's curl examples
        ("get", "/v0/models"),
        ("post", "/v0/models"),
        ("get", "/v0/models/{model_id}/status"),
        ("delete", "/v0/models/{model_id}/delete"),
    }
    assert len(gen.routes_named(seed, facts)) == 13  # and the SDK's 9 more (API-FACTS)
    assert gen.statuses_named(facts)["File"][-2:] == ["fileready", "filefailed"]
    assert gen.source_problems(gen.generate(), SHARED) == []
    lacking = gen.generate()
    del lacking["paths"]["/v0/public-models"]
    lacking["components"]["schemas"]["Model"]["properties"]["status"]["description"] = "State: created, ready."
    assert gen.source_problems(lacking, SHARED) == [
        "route GET /v0/public-models is missing",
        "Model status values are 'created, ready'; API-FACTS lists 'created, datasetsloaded, readytofit, inqueue, "
        "trainrequested, training, ready, fitfailed'",
    ]


def test_toolset_tags_of_all_five_documents() -> None:
    result = run("tag_toolsets.py", "--check")
    assert result.returncode == 0, result.stderr
    tags = load_script("tag_toolsets")
    for backend in tags.TOOLSETS:
        text = (SCHEMAS / f"{backend}.json").read_text(encoding="utf-8")
        doc = json.loads(text)
        del doc["tags"]
        for op in tags.operations(doc):
            del op["tags"]
        assert tags.dumps(backend, tags.apply_tags(backend, doc)) == text, backend


def test_recorded_adjustments_reproduce_the_target_key_order_included(tmp_path: Path) -> None:
    adj = load_script("adjustments")
    generated = {"a": 1, "c": {"x": [1, 2], "s": {"type": "object", "description": "d"}}, "z": "old"}
    target = {"a": 1, "b": 2, "c": {"x": [1, 2, 3], "s": {"anyOf": [{"type": "object"}, {"type": "null"}]}}, "z": "new"}
    entries = adj.record(generated, target, "because")
    assert {(e["op"], e["path"]) for e in entries} == {
        ("add", "/b"),
        ("add", "/c/x/-"),
        ("replace", "/c/s"),
        ("replace", "/z"),
    }
    assert next(e for e in entries if e["path"] == "/b")["after"] == "a"
    assert json.dumps(adj.apply(json.loads(json.dumps(generated)), entries)) == json.dumps(target)

    path = tmp_path / "adjustments.json"
    adj.save(path, entries)
    assert adj.load(path) == entries
    path.write_text(json.dumps([{"op": "replace", "path": "/z", "value": 1}]))
    with pytest.raises(adj.AdjustmentError, match="every adjustment says why"):
        adj.load(path)
    with pytest.raises(adj.AdjustmentError, match="/c/missing/key: no 'missing' there"):
        adj.apply(generated, [{"op": "replace", "path": "/c/missing/key", "value": 1, "why": "w"}])


def test_a_hand_edit_of_tunethemodel_can_be_recorded_too(tmp_path: Path) -> None:
    require_shared()
    document, recorded = tmp_path / "tunethemodel.json", tmp_path / "adjustments.json"
    doc = json.loads((SCHEMAS / "tunethemodel.json").read_text(encoding="utf-8"))
    doc["components"]["schemas"]["Model"]["properties"]["status"]["type"] = ["string", "null"]
    document.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    options = ("--document", str(document), "--adjustments", str(recorded))
    failed = run("gen_tunethemodel.py", "--check", *options)
    assert failed.returncode == 1
    assert "/components/schemas/Model/properties/status/type" in failed.stderr
    assert run("gen_tunethemodel.py", "--record", "a null status is no status", *options).returncode == 0
    assert json.loads(recorded.read_text(encoding="utf-8")) == [
        {
            "op": "replace",
            "path": "/components/schemas/Model/properties/status/type",
            "value": ["string", "null"],
            "why": "a null status is no status",
        }
    ]
    passed = run("gen_tunethemodel.py", "--check", *options)
    assert passed.returncode == 0, passed.stderr
