"""Generate src/modelops_mcp/schemas/tunethemodel.json, the Tune the Model document.

    python scripts/gen_tunethemodel.py                 # write the document (this source + tags + adjustments)
    python scripts/gen_tunethemodel.py --check         # exit 1, with a summary, when the committed one differs
    python scripts/gen_tunethemodel.py --record "why"  # turn hand edits of the committed document into adjustments

The seed (scripts/sources/seeds/002_73af3c805b4c51db.txt, a copy of shared/seeds/) documents four operations
in prose and curl examples (list, create, status and delete of models); API-FACTS' Tune the Model section
lists the rest of the surface the official `tune-the-model` SDK uses. Neither is a schema, so this file is the
curated source: the operations below are written from them, and --check also verifies that every route the
two sources name is here with its method (from scripts/sources/, the copies of shared/; --shared to point elsewhere).
Toolset tags come from scripts/tag_toolsets.py. Edit this source; a hand edit of the document (say, from a
merge) can instead be recorded in scripts/tunethemodel_adjustments.json with --record, as for DataRobot.
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
from tag_toolsets import apply_tags

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "src" / "modelops_mcp" / "schemas" / "tunethemodel.json"
# Copies of shared/'s seeds ship in scripts/sources/ (CI checks them against shared/); MODELOPS_SHARED names
# another copy, such as the shared/ folder itself.
SHARED = Path(os.environ.get("MODELOPS_SHARED", ROOT / "scripts" / "sources"))
SEED = Path("seeds") / "002_73af3c805b4c51db.txt"
FACTS = Path("API-FACTS.md")
ADJUSTMENTS = Path(__file__).resolve().parent / "tunethemodel_adjustments.json"

Schema = dict[str, Any]

TYPES = ["classifier", "generator"]


def nullable(kind: str, description: str | None = None) -> Schema:
    schema: Schema = {"type": [kind, "null"]}
    if description is not None:
        schema["description"] = description
    return schema


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


MODEL: Schema = {
    "type": "object",
    "description": "A fine-tuned model. The service has sent the id as `model_id` (current) or `model_name` "
    "(2022 docs) and the name as `name` or `user_name`; read whichever is present.",
    "properties": {
        "model_id": {"type": "string", "description": "The model's id."},
        "model_name": {"type": "string", "description": "The model's id (older field name)."},
        "name": nullable("string", "The model's name."),
        "user_name": nullable("string", "The model's name (older field name)."),
        "model_type": {"type": "string", "enum": TYPES},
        "model_params": {
            "type": ["object", "null"],
            "properties": {
                "num_classes": nullable("integer", "Classes of a classifier."),
                "train_iters": nullable("integer", "Training iterations."),
            },
        },
        "base_model": nullable("string", "The pretrained model it was tuned from."),
        "status": {
            "type": "string",
            "description": "The model's state, sent capitalised (compare case-insensitively): created, "
            "datasetsloaded, readytofit, inqueue, trainrequested, training, ready, fitfailed.",
        },
        "last_updated_time": nullable("string", "When the status last changed."),
        "train_file": nullable("string", "Id of the bound train file."),
        "validate_file": nullable("string", "Id of the bound validation file."),
        "error": nullable("string", "Why the fit failed."),
    },
    "required": ["status", "model_type"],
}

FILE_PROPERTIES: Schema = {
    "file_id": {"type": "string", "description": "The file's id."},
    "name": nullable("string"),
    "file_name": nullable("string"),
    "task_type": {"type": "string", "enum": TYPES},
    "status": {
        "type": "string",
        "description": "The file's state, sent capitalised (compare case-insensitively): filecreated, "
        "fileinqueue, fileloading, fileloaded, fileready, filefailed.",
    },
    "num_rows": nullable("integer", "Rows uploaded; null before the upload."),
    "last_updated_time": nullable("string"),
}


def file_schema(extra: Schema | None = None) -> Schema:
    return {
        "type": "object",
        "description": "A dataset file.",
        "properties": {**FILE_PROPERTIES, **(extra or {})},
        "required": ["file_id", "status"],
    }


def path_id(name: str, description: str) -> list[Schema]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": description,
        }
    ]


MODEL_ID = path_id("model_id", "The model's id (`model_id`, or `model_name` in older answers).")
FILE_ID = path_id("file_id", "The file's id.")


def ok(schema: Schema) -> Schema:
    return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def listing(key: str, item: Schema) -> Schema:
    return ok({"type": "object", "properties": {key: {"type": "array", "items": item}}, "required": [key]})


def body(properties: Schema, required: list[str], **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def operation(
    operation_id: str,
    summary: str,
    *,
    tool: str,
    description: str | None = None,
    parameters: list[Schema] | None = None,
    request: Schema | None = None,
    responses: Schema,
    **mcp: Any,
) -> Schema:
    op: Schema = {"operationId": operation_id, "summary": summary}
    if description is not None:
        op["description"] = description
    if parameters is not None:
        op["parameters"] = parameters
    if request is not None:
        op["requestBody"] = request
    op["responses"] = responses
    op["x-mcp"] = {"tool": f"tunethemodel_{tool}", **mcp}
    return op


def texts(description: str) -> Schema:
    return {"type": "array", "items": {"type": "string"}, "minItems": 32, "description": description}


UPLOAD: Schema = {
    "url": "$response.body#/upload_url",
    "method": "PUT",
    "payload": "tunethemodel_rows",
    "arguments": {
        "path": {
            "type": "string",
            "minLength": 1,
            "description": "Local CSV or JSONL file (under the client's roots or an --allow-dir directory).",
        },
        "inputs": texts("Inline rows instead of `path`: the texts."),
        "classes": {
            "type": "array",
            "items": {"type": ["integer", "string"], "minimum": 0, "minLength": 1},
            "minItems": 32,
            "description": "Classifier targets beside `inputs`: class numbers, or label names (numbered 0, 1, "
            "\u2026 in sorted order, as in a file).",
        },
        "class_names": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 2,
            "uniqueItems": True,
            "description": "Names of class 0, 1, \u2026 when the labels are numbers (inline or in the file); "
            "classify answers then carry them.",
        },
        "outputs": texts("Generator targets beside `inputs`."),
    },
    "then": {"operation": "getFileStatus", "arguments": {"file_id": "{file_id}"}},
}

# Class names the server keeps (src/modelops_mcp/spec/labels.py): the service answers classify with bare
# scores by class number and keeps no names, nor does the official client (tune_the_model/cli.py:456).
UPLOAD_LABELS: Schema = {"record": "file", "id": "$response.body#/file_id"}
BIND_LABELS: Schema = {
    "record": "model",
    "id": "$request.path.model_id",
    "copy_from": {"record": "file", "id": "$request.body#/train_file"},
}
CLASSIFY_LABELS: Schema = {"record": "model", "id": "$request.path.model_id", "scores": "/answer/scores"}

FIT_JOB: Schema = {
    "ids": {"model_id": "$request.path.model_id"},
    "status": {"operation": "getModelStatus", "arguments": {"model_id": "{model_id}"}},
    "rules": [
        {"when": {"/status": "ready"}, "status": "completed"},
        {"when": {"/status": "fitfailed"}, "status": "failed"},
    ],
    "state": "/status",
    "message": "/error",
}

GENERATE: Schema = {
    "input": {"type": "string", "minLength": 1, "description": "The prompt."},
    "num_hypos": {"type": "integer", "minimum": 1, "default": 1, "description": "Texts to return."},
    "min_tokens": {"type": "integer", "minimum": 0},
    "max_tokens": {"type": "integer", "minimum": 1},
    "temperature": {"type": "number", "exclusiveMinimum": 0},
    "top_k": {"type": "integer", "minimum": 0},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "seed": {"type": "integer", "description": "Makes the output repeatable."},
    "prefix_tokens_only": {"type": "boolean"},
    "span_delimiters": {"type": "array", "items": {"type": "string"}},
}


def answer(key: str, items: Schema) -> Schema:
    return ok(
        {
            "type": "object",
            "properties": {
                "answer": {
                    "type": "object",
                    "properties": {key: {"type": "array", "items": items}},
                    "required": [key],
                }
            },
            "required": ["answer"],
        }
    )


PATHS: dict[str, dict[str, Schema]] = {
    # The seed's four operations.
    "/v0/models": {
        "get": operation(
            "listModels",
            "List your fine-tuned models with their type and status.",
            tool="list_models",
            responses=listing("models", ref("Model")),
        ),
        "post": operation(
            "createModel",
            "Create a classifier or generator to fine-tune.",
            tool="create_model",
            description="Next: upload a train and a validation dataset (tunethemodel_upload_dataset), bind them "
            "(tunethemodel_bind_datasets), then fit (tunethemodel_fit_model).",
            request=body(
                {
                    "model_type": {"type": "string", "enum": TYPES},
                    "name": {"type": "string", "description": "Name of the model."},
                    "model_params": {
                        "type": "object",
                        "properties": {
                            "num_classes": {
                                "type": "integer",
                                "minimum": 2,
                                "description": "Classes of a multiclass classifier.",
                            },
                            "train_iters": {"type": "integer", "minimum": 1, "description": "Training iterations."},
                        },
                        "additionalProperties": False,
                    },
                    "pretrained_model": {"type": "string", "description": "A public model to start from."},
                },
                ["model_type"],
            ),
            responses=ok(ref("Model")),
        ),
    },
    "/v0/models/{model_id}/status": {
        "get": operation(
            "getModelStatus",
            "Get a model, with its status.",
            tool="get_model",
            parameters=MODEL_ID,
            responses=ok(ref("Model")),
        )
    },
    "/v0/models/{model_id}/delete": {
        "delete": operation(
            "deleteModel",
            "Delete a model.",
            tool="delete_model",
            description="Answers the model as it was.",
            parameters=MODEL_ID,
            responses=ok(ref("Model")),
        )
    },
    # The rest of the surface the official SDK uses (API-FACTS).
    "/v0/public-models": {
        "get": operation(
            "listPublicModels",
            "List the public models anyone can classify or generate with.",
            tool="list_public_models",
            responses=listing("models", ref("Model")),
        )
    },
    "/v0/models/{model_id}/bind": {
        "post": operation(
            "bindDatasets",
            "Bind a train and a validation file to a model.",
            tool="bind_datasets",
            # The service takes a bind while the files are still loading: the official client (tune-the-model
            # 0.1.33, tune_the_model/cli.py:381-387) uploads both files and binds at once, without reading their
            # status.
            description="Both files must be of the model's type; they may still be loading (the service binds "
            "them as they are, as the official client does right after the upload). The model reads "
            "DatasetsLoaded once both files are ready, and can then be fitted.",
            parameters=MODEL_ID,
            request=body(
                {
                    "train_file": {"type": "string", "minLength": 1, "description": "Id of the train file."},
                    "validate_file": {"type": "string", "minLength": 1, "description": "Id of the validation file."},
                },
                ["train_file", "validate_file"],
            ),
            responses=ok(ref("Model")),
            annotations={"idempotentHint": True},
            labels=BIND_LABELS,
        )
    },
    "/v0/models/{model_id}/fit": {
        "post": operation(
            "fitModel",
            "Start fine-tuning a model whose datasets are bound.",
            tool="fit_model",
            description="Starts a job that follows the model's status until Ready (completed) or FitFailed (failed).",
            parameters=MODEL_ID,
            responses=ok(ref("Model")),
            job=FIT_JOB,
        )
    },
    "/v0/models/{model_id}/classify": {
        "post": operation(
            "classify",
            "Classify a text with a ready classifier.",
            tool="classify",
            description="Answers one score per class (class 0 first), and `classes` (name \u2192 score) when the "
            "class names are known from the upload.",
            parameters=MODEL_ID,
            request=body({"input": {"type": "string", "minLength": 1}}, ["input"]),
            responses=answer("scores", {"type": "number"}),
            annotations={"readOnlyHint": True, "idempotentHint": True},
            labels=CLASSIFY_LABELS,
        )
    },
    "/v0/models/{model_id}/generate": {
        "post": operation(
            "generate",
            "Generate text with a ready generator.",
            tool="generate",
            parameters=MODEL_ID,
            request=body(GENERATE, ["input"]),
            responses=answer(
                "responses",
                {"type": "object", "properties": {"response": {"type": "string"}}, "required": ["response"]},
            ),
            annotations={"readOnlyHint": True},
        )
    },
    "/v0/files": {
        "get": operation(
            "listFiles",
            "List your dataset files with their status.",
            tool="list_files",
            responses=listing("files", ref("File")),
        ),
        "post": operation(
            "createFile",
            "Upload a dataset: create the file record and send its rows.",
            tool="upload_dataset",
            description="Rows come from a local CSV (header row) or JSONL file, or inline lists. Columns: `input` "
            "(or text/prompt) and, for a classifier, `class` (or label; numbers, or names mapped to 0, 1, \u2026 in "
            "sorted order), for a generator `output` (or completion). At least 32 rows; fewer are refused before "
            "anything is sent. The rows are PUT to the presigned `upload_url` the record gives; the file then moves "
            "to FileReady.",
            request=body(
                {
                    "name": {"type": "string", "minLength": 1, "description": "Name of the file."},
                    "task_type": {
                        "type": "string",
                        "enum": TYPES,
                        "description": "The model type the dataset trains.",
                    },
                },
                ["name", "task_type"],
            ),
            responses=ok(
                file_schema({"upload_url": {"type": "string", "description": "Presigned URL to PUT the rows to."}})
            ),
            title="Upload a dataset",
            upload=UPLOAD,
            labels=UPLOAD_LABELS,
        ),
    },
    "/v0/files/{file_id}/status": {
        "get": operation(
            "getFileStatus",
            "Get a dataset file, with its status.",
            tool="get_file",
            parameters=FILE_ID,
            responses=ok(ref("File")),
        )
    },
    "/v0/files/{file_id}/delete": {
        "delete": operation(
            "deleteFile",
            "Delete a dataset file.",
            tool="delete_file",
            parameters=FILE_ID,
            responses=ok(ref("File")),
        )
    },
}


def generate() -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Tune the Model API",
            "version": "v0",
            "description": "Hosted classifier and generator fine-tuning. The seed documents list/create/status/"
            "delete of models; the rest is the surface the official `tune-the-model` SDK uses (API-FACTS).",
        },
        "servers": [{"url": "https://api.tunethemodel.com"}],
        "x-mcp": {"backend": "tunethemodel", "title": "Tune the Model", "base_url_env": "TTM_API_URL"},
        "security": [{"ApiKey": []}],
        "components": {
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "The raw API key, without Bearer.",
                    "x-mcp-credential-env": "TTM_API_KEY",
                }
            },
            "schemas": {"Model": MODEL, "File": file_schema()},
        },
        "paths": PATHS,
    }
    # A fresh copy: the helpers share dicts (MODEL_ID, TYPES) that the JSON must not alias.
    built: dict[str, Any] = json.loads(json.dumps(apply_tags("tunethemodel", doc)))
    return built


def routes_named(seed: str, facts: str) -> set[tuple[str, str]]:
    """(method, path) of every route the seed's curl examples and API-FACTS' Tune the Model section name."""
    named: set[tuple[str, str]] = set()
    for block in re.split(r"\n\s*\n", seed):
        url = re.search(r"https://api\.tunethemodel\.com(/v0/\S+?)[\"']", block)
        if url:
            method = re.search(r"-X '?(\w+)'?", block)
            named.add(((method.group(1) if method else "GET").lower(), re.sub(r"<\w+>", "{model_id}", url.group(1))))
    section = facts.split("## Tune the Model", 1)[1].split("\n## ", 1)[0]
    for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/v0/[^`\s]+)", section):
        named.add((method.lower(), re.sub(r"\{id\}", "{model_id}" if "/models/" in path else "{file_id}", path)))
    return named


def statuses_named(facts: str) -> dict[str, list[str]]:
    """The model and file status values API-FACTS lists ("Model: created, ... fitfailed.")."""
    section = facts.split("## Tune the Model", 1)[1].split("\n## ", 1)[0]
    return {
        kind: [value.strip() for value in found.group(1).split(",")]
        for kind in ("Model", "File")
        if (found := re.search(rf"\b{kind}: ([a-z, ]+)\.", section))
    }


def source_problems(doc: dict[str, Any], shared: Path) -> list[str]:
    """What the seed or API-FACTS name that the document lacks: routes, and the status values it lists."""
    seed, facts = shared / SEED, shared / FACTS
    if not (seed.is_file() and facts.is_file()):
        print(f"(not cross-checked: {seed} or {facts} is missing; MODELOPS_SHARED names shared/)", file=sys.stderr)
        return []
    facts_text = facts.read_text(encoding="utf-8")
    documented = {(method, path) for path, item in doc["paths"].items() for method in item}
    named = routes_named(seed.read_text(encoding="utf-8"), facts_text)
    problems = [f"route {method.upper()} {path} is missing" for method, path in sorted(named - documented)]
    schemas = doc["components"]["schemas"]
    for kind, values in statuses_named(facts_text).items():
        listed = schemas[kind]["properties"]["status"]["description"].rsplit(": ", 1)[-1].rstrip(".")
        if listed.split(", ") != values:
            problems.append(f"{kind} status values are {listed!r}; API-FACTS lists {', '.join(values)!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=SHARED, help=f"the shared sources (default {SHARED})")
    parser.add_argument("--document", type=Path, default=DOCUMENT, help="the document to write or check")
    parser.add_argument("--adjustments", type=Path, default=ADJUSTMENTS, help="the adjustments file (optional)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 when the committed document differs")
    mode.add_argument("--record", metavar="WHY", help="record the committed document's differences, with WHY")
    args = parser.parse_args(argv)
    entries = adjustments.load(args.adjustments) if args.adjustments.exists() else []
    expected = adjustments.apply(generate(), entries)
    problems = source_problems(expected, args.shared)
    if problems:
        print("the document disagrees with seed 002 / API-FACTS:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return adjustments.run_mode(
        "tunethemodel", expected, args.document, args.adjustments, entries, check=args.check, why=args.record
    )


if __name__ == "__main__":
    sys.exit(main())
