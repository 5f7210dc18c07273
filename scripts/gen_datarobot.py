"""Generate src/modelops_mcp/schemas/datarobot.json from DataRobot's API reference (seed 003).

    python scripts/gen_datarobot.py                  # write the document (seed + adjustments + toolset tags)
    python scripts/gen_datarobot.py --check          # exit 1, with a summary, when the committed one differs
    python scripts/gen_datarobot.py --record "why"   # turn hand edits of the committed document into adjustments

The seed (scripts/sources/seeds/003_86e9bcfdbd582f67.txt, a copy of shared/seeds/; --seed to point elsewhere)
gives every operation's path, prose, parameters, bodies, responses and their JSON Schemas. What it does not give is
written here (the document's header, the operation ids) or recorded in scripts/datarobot_adjustments.json,
each entry with its reason: `x-mcp` declarations (jobs, file sets, annotations), the status route from
API-FACTS, and any curated text or fix to the seed. Toolset tags come from scripts/tag_toolsets.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import adjustments
import seed_reference
from tag_toolsets import apply_tags

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "src" / "modelops_mcp" / "schemas" / "datarobot.json"
ADJUSTMENTS = Path(__file__).resolve().parent / "datarobot_adjustments.json"
# Copies of shared/'s seeds ship in scripts/sources/ (CI checks them against shared/); MODELOPS_SHARED names
# another copy, such as the shared/ folder itself.
SHARED = Path(os.environ.get("MODELOPS_SHARED", ROOT / "scripts" / "sources"))
SEED = SHARED / "seeds" / "003_86e9bcfdbd582f67.txt"

HEADER: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "DataRobot custom models API",
        "version": "2.36",
        "description": "Custom models, versions (multipart files), tests, dependency builds, feature impact, "
        "conversions, execution environments and access control, from DataRobot's API v2 reference; behaviour "
        "beyond the reference from the official `datarobot` client (see API-FACTS).",
    },
    "servers": [{"url": "https://app.datarobot.com/api/v2"}],
    "x-mcp": {
        "backend": "datarobot",
        "title": "DataRobot",
        "base_url_env": "DATAROBOT_ENDPOINT",
        "pagination": {"offset": "offset", "limit": "limit", "default_limit": 100, "next": "/next"},
    },
    "security": [{"BearerAuth": []}],
    "components": {
        "securitySchemes": {
            "BearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key from the DataRobot UI (Developer Tools). Sent as `Authorization: Bearer "
                "<key>`; set DATAROBOT_AUTH_SCHEME=Token to send `Token <key>` as the official client does.",
                "x-mcp-credential-env": "DATAROBOT_API_TOKEN",
                "x-mcp-scheme-env": "DATAROBOT_AUTH_SCHEME",
            }
        }
    },
}

# The reference names operations only by method and path. Tool names follow from these ids
# (`datarobot_` + snake_case), so they are part of the public surface: never rename one.
OPERATION_IDS: dict[tuple[str, str], str] = {
    ("get", "/customInferenceImages/{imageId}/featureImpact/"): "getImageFeatureImpact",
    ("post", "/customInferenceImages/{imageId}/featureImpact/"): "startImageFeatureImpact",
    ("get", "/customModelLimits/"): "getCustomModelLimits",
    ("get", "/customModelTests/"): "listCustomModelTests",
    ("post", "/customModelTests/"): "createCustomModelTest",
    ("delete", "/customModelTests/{customModelTestId}/"): "cancelCustomModelTest",
    ("get", "/customModelTests/{customModelTestId}/"): "getCustomModelTest",
    ("get", "/customModelTests/{customModelTestId}/log/"): "downloadCustomModelTestLog",
    ("get", "/customModelTests/{customModelTestId}/tail/"): "getCustomModelTestLogTail",
    ("get", "/customModels/"): "listCustomModels",
    ("post", "/customModels/"): "createCustomModel",
    ("post", "/customModels/fromCustomModel/"): "copyCustomModel",
    ("post", "/customModels/fromModelTemplate/"): "createCustomModelFromTemplate",
    ("post", "/customModels/predictionExplanationsInitialization/"): "initModelPredictionExplanations",
    ("delete", "/customModels/{customModelId}/"): "deleteCustomModel",
    ("get", "/customModels/{customModelId}/"): "getCustomModel",
    ("patch", "/customModels/{customModelId}/"): "updateCustomModel",
    ("get", "/customModels/{customModelId}/accessControl/"): "listCustomModelAccess",
    ("patch", "/customModels/{customModelId}/accessControl/"): "updateCustomModelAccess",
    ("get", "/customModels/{customModelId}/download/"): "downloadCustomModel",
    ("patch", "/customModels/{customModelId}/trainingData/"): "assignCustomModelTrainingData",
    ("get", "/customModels/{customModelId}/versions/"): "listCustomModelVersions",
    ("patch", "/customModels/{customModelId}/versions/"): "createCustomModelVersionFromLatest",
    ("post", "/customModels/{customModelId}/versions/"): "createCustomModelVersion",
    ("patch", "/customModels/{customModelId}/versions/fromRepository/"): "addCustomModelVersionFromRepository",
    ("post", "/customModels/{customModelId}/versions/fromRepository/"): "createCustomModelVersionFromRepository",
    ("patch", "/customModels/{customModelId}/versions/withTrainingData/"): "createCustomModelVersionWithTrainingData",
    ("get", "/customModels/{customModelId}/versions/{customModelVersionId}/"): "getCustomModelVersion",
    ("patch", "/customModels/{customModelId}/versions/{customModelVersionId}/"): "updateCustomModelVersion",
    ("get", "/customModels/{customModelId}/versions/{customModelVersionId}/conversions/"): "listCustomModelConversions",
    (
        "post",
        "/customModels/{customModelId}/versions/{customModelVersionId}/conversions/",
    ): "createCustomModelConversion",
    (
        "delete",
        "/customModels/{customModelId}/versions/{customModelVersionId}/conversions/{conversionId}/",
    ): "stopCustomModelConversion",
    (
        "get",
        "/customModels/{customModelId}/versions/{customModelVersionId}/conversions/{conversionId}/",
    ): "getCustomModelConversion",
    (
        "delete",
        "/customModels/{customModelId}/versions/{customModelVersionId}/dependencyBuild/",
    ): "cancelDependencyBuild",
    ("get", "/customModels/{customModelId}/versions/{customModelVersionId}/dependencyBuild/"): "getDependencyBuild",
    ("post", "/customModels/{customModelId}/versions/{customModelVersionId}/dependencyBuild/"): "startDependencyBuild",
    (
        "get",
        "/customModels/{customModelId}/versions/{customModelVersionId}/dependencyBuildLog/",
    ): "getDependencyBuildLog",
    ("get", "/customModels/{customModelId}/versions/{customModelVersionId}/download/"): "downloadCustomModelVersion",
    ("get", "/customModels/{customModelId}/versions/{customModelVersionId}/featureImpact/"): "getFeatureImpact",
    ("post", "/customModels/{customModelId}/versions/{customModelVersionId}/featureImpact/"): "startFeatureImpact",
    (
        "post",
        "/customModels/{customModelId}/versions/{customModelVersionId}/predictionExplanationsInitialization/",
    ): "initVersionPredictionExplanations",
    ("get", "/executionEnvironments/"): "listExecutionEnvironments",
    ("post", "/executionEnvironments/"): "createExecutionEnvironment",
    ("delete", "/executionEnvironments/{environmentId}/"): "deleteExecutionEnvironment",
    ("get", "/executionEnvironments/{environmentId}/"): "getExecutionEnvironment",
    ("patch", "/executionEnvironments/{environmentId}/"): "updateExecutionEnvironment",
    ("get", "/executionEnvironments/{environmentId}/accessControl/"): "listExecutionEnvironmentAccess",
    ("patch", "/executionEnvironments/{environmentId}/accessControl/"): "updateExecutionEnvironmentAccess",
    ("get", "/executionEnvironments/{environmentId}/versions/"): "listExecutionEnvironmentVersions",
    ("post", "/executionEnvironments/{environmentId}/versions/"): "createExecutionEnvironmentVersion",
    (
        "get",
        "/executionEnvironments/{environmentId}/versions/{environmentVersionId}/",
    ): "getExecutionEnvironmentVersion",
    (
        "get",
        "/executionEnvironments/{environmentId}/versions/{environmentVersionId}/buildLog/",
    ): "getExecutionEnvironmentVersionBuildLog",
    (
        "get",
        "/executionEnvironments/{environmentId}/versions/{environmentVersionId}/download/",
    ): "downloadExecutionEnvironmentVersion",
    ("post", "/executionEnvironmentsPermadelete/"): "permanentlyDeleteExecutionEnvironments",
}

# A download's media type, from the words of its summary ("... as a zip compressed archive", "... logs ...");
# an archive that may be a tarball or a zip stays application/octet-stream.
DOWNLOAD_TYPES = ((r"\bzip\b", "application/zip"), (r"\blogs?\b", "text/plain"))


def tool_name(operation_id: str) -> str:
    return "datarobot_" + re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def clean_schema(schema: Any) -> Any:
    """The reference's schema without its version bookkeeping: `x-versionadded` dropped, `x-versiondeprecated`
    said in the description (an agent should know a field is deprecated; no tool reads x- keys)."""
    if isinstance(schema, list):
        return [clean_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    deprecated = schema.get("x-versiondeprecated")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("x-versionadded", "x-versiondeprecated"):
            continue
        if key == "description" and deprecated is not None and isinstance(value, str):  # (every one has one)
            value = f"Deprecated since {deprecated}. {value}"
        out[key] = value if key in ("enum", "default", "example", "required") else clean_schema(value)
    return out


def prose(op: seed_reference.Operation) -> tuple[str, str]:
    """(summary, description): the first sentence, then the rest joined into one paragraph.

    A line that is only `METHOD /path` is left out, as the first generation did (it read such lines as
    routes). The one place this loses text is createCustomModel's description, which quotes the two routes
    a model's server must answer (`GET $URL_PREFIX/`, `POST $URL_PREFIX/predict_no_state/`)."""
    lines = [line for line in op.prose if line and not re.match(r"^(GET|POST|PUT|PATCH|DELETE) \S+$", line)]
    first, rest = (lines[0], lines[1:]) if lines else ("", [])
    summary, _, tail = first.partition(". ")
    summary = summary if summary.endswith(".") or not tail else summary + "."
    text = " ".join(([tail] if tail else []) + rest)
    text = re.sub(r"\.\. minversion:: (v[\d.]+)", r"(since \1)", text)
    return summary, text


def parameter(row: list[str], enums: dict[str, list[str]]) -> dict[str, Any]:
    name, where, kind, required, description = row[:5]
    types = kind.split(",")
    schema: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    if name in enums:
        schema["enum"] = enums[name]
    return {"name": name, "in": where, "required": required == "true", "schema": schema, "description": description}


def request_body(op: seed_reference.Operation, named: dict[str, Any]) -> dict[str, Any] | None:
    body_rows = [row for row in op.parameters if row[1] == "body"]
    if not body_rows:
        return None
    if op.body_is_json:
        return {"required": True, "content": {"application/json": {"schema": clean_schema(op.body)}}}
    # Multipart bodies are printed as YAML whose indentation the scrape lost: the named schema is exact.
    schema = clean_schema(named[body_rows[0][2]])
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def responses(op: seed_reference.Operation, summary: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in op.responses:
        status, meaning, description = row[:3]
        response: dict[str, Any] = {"description": meaning if description == "none" else description}
        headers = [h for h in op.headers if h[0] == status]
        if status in op.examples:
            response["content"] = {"application/json": {"schema": clean_schema(op.examples[status])}}
        elif any(h[1] == "Content-Disposition" for h in headers):
            media = next((m for word, m in DOWNLOAD_TYPES if re.search(word, summary)), "application/octet-stream")
            response["content"] = {media: {"schema": {"type": "string", "format": "binary"}}}
        if headers:
            # The scrape dropped the header table's empty Format cell, so a row's description sits in its fourth
            # cell; the first generation read the fifth, and these descriptions stayed empty.
            response["headers"] = {
                h[1]: {"description": h[4] if len(h) > 4 else "", "schema": {"type": h[2]}} for h in headers
            }
        out[status] = response
    return out


def operation(op: seed_reference.Operation, named: dict[str, Any]) -> dict[str, Any]:
    operation_id = OPERATION_IDS.get((op.method, op.path))
    if operation_id is None:
        raise SystemExit(f"the seed's {op.method.upper()} {op.path} has no operation id: add it to OPERATION_IDS")
    summary, description = prose(op)
    out: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if description:
        out["description"] = description
    parameters = [parameter(row, op.enums) for row in op.parameters if row[1] != "body"]
    if parameters:
        out["parameters"] = parameters
    body = request_body(op, named)
    if body is not None:
        out["requestBody"] = body
    out["responses"] = responses(op, summary)
    out["x-mcp"] = {"tool": tool_name(operation_id)}
    return out


def generate(seed_text: str) -> dict[str, Any]:
    """The document the seed alone gives (no adjustments, no tags)."""
    operations, named = seed_reference.parse(seed_text)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = operation(op, named)
    return {**json.loads(json.dumps(HEADER)), "paths": paths}


def build(seed_text: str, entries: list[adjustments.Entry]) -> dict[str, Any]:
    """What the committed document must be: generated, tagged, then adjusted."""
    doc = apply_tags("datarobot", generate(seed_text))
    adjusted: dict[str, Any] = adjustments.apply(doc, entries)
    return adjusted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=Path, default=SEED, help=f"the seed text (default {SEED})")
    parser.add_argument("--document", type=Path, default=DOCUMENT, help="the document to write or check")
    parser.add_argument("--adjustments", type=Path, default=ADJUSTMENTS, help="the adjustments file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 when the committed document differs")
    mode.add_argument("--record", metavar="WHY", help="record the committed document's differences, with WHY")
    args = parser.parse_args(argv)
    if not args.seed.is_file():
        print(
            f"seed not found: {args.seed}\n(a copy ships in scripts/sources/seeds/; MODELOPS_SHARED names "
            "a folder holding seeds/, --seed a file)",
            file=sys.stderr,
        )
        return 2
    entries = adjustments.load(args.adjustments) if args.adjustments.exists() else []
    expected = build(args.seed.read_text(encoding="utf-8"), entries)
    return adjustments.run_mode(
        "datarobot", expected, args.document, args.adjustments, entries, check=args.check, why=args.record
    )


if __name__ == "__main__":
    sys.exit(main())
