"""Assign the toolset tags of the five bundled schema documents.

A toolset is an OpenAPI tag: the document's `tags` list names and describes each group, and every operation
carries exactly one of them (its first tag is its group; `--toolsets <backend>.<tag>`, and
`modelops-mcp tools --list-toolsets`). The groups are chosen by hand, so this table is their source.

    python scripts/tag_toolsets.py            # write the tags into src/modelops_mcp/schemas/*.json
    python scripts/tag_toolsets.py --check    # exit 1 when a document's tags differ from this table

Operations this table does not name keep the tags they have, and tag entries it does not name stay in the
document after its own: a document edited by hand (or by another generator) is never stripped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "src" / "modelops_mcp" / "schemas"


class Toolset(NamedTuple):
    name: str
    description: str
    operations: tuple[str, ...]


TOOLSETS: dict[str, tuple[Toolset, ...]] = {
    "caila": (
        Toolset(
            "services",
            "Derive a fittable service.",
            ("createDerivedModel",),
        ),
        Toolset(
            "datasets",
            "Datasets of an account.",
            ("getDatasets",),
        ),
        Toolset(
            "fit",
            "Fit configurations, fitting a service and following its job.",
            ("getFitConfigs", "fit", "getJobStatus"),
        ),
    ),
    "training_module": (
        Toolset(
            "session",
            "The single training session, its configuration and the service's health.",
            ("startSession", "updateTrainingConfig", "getTrainingConfig", "healthcheck"),
        ),
        Toolset(
            "data",
            "Dataset upload and preprocessing.",
            ("uploadDataset", "preprocess", "getPreprocessStatus"),
        ),
        Toolset(
            "training",
            "Training: start, stop, status and per-epoch metrics.",
            ("startTraining", "stopTraining", "getStatus", "monitor"),
        ),
        Toolset(
            "models",
            "Trained and imported models: readiness, downloads, import.",
            ("modelReady", "downloadModel", "downloadResults", "importModel", "importStatus", "getImportedModel"),
        ),
    ),
    "tunethemodel": (
        Toolset(
            "models",
            "Models: list, create, read, delete; public models.",
            ("listModels", "createModel", "getModelStatus", "deleteModel", "listPublicModels"),
        ),
        Toolset(
            "training",
            "Bind datasets to a model and fit it.",
            ("bindDatasets", "fitModel"),
        ),
        Toolset(
            "inference",
            "Classify or generate with a fitted model.",
            ("classify", "generate"),
        ),
        Toolset(
            "files",
            "Dataset files: upload, list, read, delete.",
            ("listFiles", "createFile", "getFileStatus", "deleteFile"),
        ),
    ),
    "pieces": (
        Toolset(
            "models",
            "Local models: list, read, download (with progress), cancel, load, unload, update.",
            (
                "modelsSnapshot",
                "modelsSpecificModelSnapshot",
                "modelSpecificModelDownload",
                "modelSpecificModelDownloadCancel",
                "modelSpecificModelLoad",
                "modelSpecificModelUnload",
                "modelUpdate",
            ),
        ),
        Toolset(
            "health",
            "Whether Pieces OS is running.",
            ("getWellKnownHealth",),
        ),
    ),
    "datarobot": (
        Toolset(
            "models",
            "Custom models: create, copy, read, update, delete, download, training data, limits.",
            (
                "getCustomModelLimits",
                "listCustomModels",
                "createCustomModel",
                "copyCustomModel",
                "createCustomModelFromTemplate",
                "deleteCustomModel",
                "getCustomModel",
                "updateCustomModel",
                "downloadCustomModel",
                "assignCustomModelTrainingData",
            ),
        ),
        Toolset(
            "versions",
            "Custom model versions: create from files, from a repository, with training data; read, update, download.",
            (
                "listCustomModelVersions",
                "createCustomModelVersionFromLatest",
                "createCustomModelVersion",
                "addCustomModelVersionFromRepository",
                "createCustomModelVersionFromRepository",
                "createCustomModelVersionWithTrainingData",
                "getCustomModelVersion",
                "updateCustomModelVersion",
                "downloadCustomModelVersion",
            ),
        ),
        Toolset(
            "tests",
            "Custom model tests: start, follow, cancel, read logs.",
            (
                "listCustomModelTests",
                "createCustomModelTest",
                "cancelCustomModelTest",
                "getCustomModelTest",
                "downloadCustomModelTestLog",
                "getCustomModelTestLogTail",
            ),
        ),
        Toolset(
            "dependency_builds",
            "Dependency builds of a version's requirements: start, follow, cancel, read the log.",
            ("cancelDependencyBuild", "getDependencyBuild", "startDependencyBuild", "getDependencyBuildLog"),
        ),
        Toolset(
            "feature_impact",
            "Feature impact of a version or an inference image: start and read.",
            ("getImageFeatureImpact", "startImageFeatureImpact", "getFeatureImpact", "startFeatureImpact"),
        ),
        Toolset(
            "conversions",
            "Conversions of a version: start, list, read, stop.",
            (
                "listCustomModelConversions",
                "createCustomModelConversion",
                "stopCustomModelConversion",
                "getCustomModelConversion",
            ),
        ),
        Toolset(
            "prediction_explanations",
            "Initialise prediction explanations for a model or a version.",
            ("initModelPredictionExplanations", "initVersionPredictionExplanations"),
        ),
        Toolset(
            "environments",
            "Execution environments and their versions: create, build, read, update, delete, download.",
            (
                "listExecutionEnvironments",
                "createExecutionEnvironment",
                "deleteExecutionEnvironment",
                "getExecutionEnvironment",
                "updateExecutionEnvironment",
                "listExecutionEnvironmentVersions",
                "createExecutionEnvironmentVersion",
                "getExecutionEnvironmentVersion",
                "getExecutionEnvironmentVersionBuildLog",
                "downloadExecutionEnvironmentVersion",
                "permanentlyDeleteExecutionEnvironments",
            ),
        ),
        Toolset(
            "access",
            "Access control of custom models and execution environments.",
            (
                "listCustomModelAccess",
                "updateCustomModelAccess",
                "listExecutionEnvironmentAccess",
                "updateExecutionEnvironmentAccess",
            ),
        ),
        Toolset(
            "datasets",
            "Datasets of the AI Catalog: upload a local file, list, read, delete (a custom model test runs on one).",
            ("listDatasets", "createDatasetFromFile", "getDataset", "deleteDataset"),
        ),
        Toolset(
            "status",
            "DataRobot's asynchronous status route (followed by the server's jobs).",
            ("getStatus",),
        ),
    ),
}

# How each document is written (the committed files differ; reformatting them would be noise in history).
FORMATS: dict[str, dict[str, Any]] = {
    "caila": {"indent": 2, "ensure_ascii": False},
    "training_module": {"indent": 2, "ensure_ascii": False},
    "pieces": {"indent": 2, "ensure_ascii": False},
    "tunethemodel": {"indent": 1, "ensure_ascii": True},
    "datarobot": {"indent": 1, "ensure_ascii": True},
}


def dumps(backend: str, doc: Any) -> str:
    return json.dumps(doc, **FORMATS[backend]) + "\n"


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in doc.get("paths", {}).values() for op in item.values() if isinstance(op, dict)]


def apply_tags(backend: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The document with its toolset tags set: top-level `tags` right after `servers`, each operation's last."""
    toolsets = TOOLSETS[backend]
    ours = [{"name": t.name, "description": t.description} for t in toolsets]
    names = {t.name for t in toolsets}
    others = [t for t in doc.get("tags", []) if t.get("name") not in names]
    tagged: dict[str, Any] = {}
    for key, value in doc.items():
        if key != "tags":
            tagged[key] = value
        if key == "servers" or (key == "openapi" and "servers" not in doc):
            tagged["tags"] = ours + others
    group = {op_id: t.name for t in toolsets for op_id in t.operations}
    for op in operations(tagged):
        name = group.get(op.get("operationId", ""))
        if name is not None:
            op.pop("tags", None)
            op["tags"] = [name]
    return tagged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report documents whose tags differ; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for backend in TOOLSETS:
        path = SCHEMAS / f"{backend}.json"
        text = path.read_text(encoding="utf-8")
        tagged = dumps(backend, apply_tags(backend, json.loads(text)))
        if tagged == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(tagged, encoding="utf-8")
    if args.check and stale:
        print(f"toolset tags differ from scripts/tag_toolsets.py in: {', '.join(stale)}", file=sys.stderr)
        return 1
    print(f"{'wrote' if stale else 'unchanged'}: {', '.join(stale) or 'all five documents'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
