"""Classify answers carry class names where the server knows them: from the dataset's labels at upload (a
file's, or inline names), copied to the model at bind, added as `classes` beside the bare `scores`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from jsonschema import Draft202012Validator
from mcp import Client

from modelops_mcp.schemas import bundled_documents
from modelops_mcp.spec.load import load_catalog
from tests.support import EXAMPLE_DATA, RunningSandbox, advance_in_steps, error_of, in_process, ok, wait_for_job

pytestmark = pytest.mark.anyio

TRAIN = EXAMPLE_DATA / "sentiment-train.csv"
VALIDATE = EXAMPLE_DATA / "sentiment-validate.csv"
TEXTS = [f"text number {i}" for i in range(32)]


async def fitted(client: Client, sandbox: RunningSandbox, train: dict[str, Any], validate: dict[str, Any]) -> str:
    """A classifier bound to the two uploads and fitted to Ready; its id."""
    model = await ok(
        client, "tunethemodel_create_model", {"model_type": "classifier", "model_params": {"num_classes": 2}}
    )
    model_id: str = model["model_id"]
    sandbox.emulators.clock.advance(5)
    files = {"train_file": train["file_id"], "validate_file": validate["file_id"]}
    await ok(client, "tunethemodel_bind_datasets", {"model_id": model_id, **files})
    fit = await ok(client, "tunethemodel_fit_model", {"model_id": model_id})
    async with anyio.create_task_group() as tg:
        tg.start_soon(advance_in_steps, sandbox, 15, 6)
        job = await wait_for_job(client, fit["job"]["id"])
    assert job["status"] == "completed", job
    return model_id


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_classifier_fitted_on_labelled_csvs_answers_with_class_names_after_a_restart_too(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    text = {"input": "Password reset keeps timing out"}
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[EXAMPLE_DATA]) as (server, _),
        Client(server, mode=mode) as client,
    ):
        upload = {"task_type": "classifier"}
        train = await ok(client, "tunethemodel_upload_dataset", {**upload, "name": "train", "path": str(TRAIN)})
        validate = await ok(client, "tunethemodel_upload_dataset", {**upload, "name": "v", "path": str(VALIDATE)})
        model_id = await fitted(client, sandbox, train, validate)
        answer = (await ok(client, "tunethemodel_classify", {"model_id": model_id, **text}))["answer"]
    scores = answer["scores"]
    assert answer["classes"] == {"negative": scores[0], "positive": scores[1]}
    assert answer["classes"]["negative"] > answer["classes"]["positive"]  # the complaint reads as negative
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode=mode) as client:
        again = (await ok(client, "tunethemodel_classify", {"model_id": model_id, **text}))["answer"]
    assert again["classes"] == answer["classes"]  # remembered in the state dir


async def test_inline_uploads_name_their_classes_by_label_or_by_class_names(
    sandbox: RunningSandbox, state_dir: Path
) -> None:
    labels = ["spam" if i % 3 == 0 else "ham" for i in range(32)]
    numbers = [i % 2 for i in range(32)]
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        by_label = await ok(
            client,
            "tunethemodel_upload_dataset",
            {"name": "a", "task_type": "classifier", "inputs": TEXTS, "classes": labels},
        )
        named = await ok(
            client,
            "tunethemodel_upload_dataset",
            {"name": "b", "task_type": "classifier", "inputs": TEXTS, "classes": numbers, "class_names": ["no", "yes"]},
        )
        unnamed = await ok(
            client,
            "tunethemodel_upload_dataset",
            {"name": "c", "task_type": "classifier", "inputs": TEXTS, "classes": numbers},
        )
        too_few = await client.call_tool(
            "tunethemodel_upload_dataset",
            {
                "name": "d",
                "task_type": "classifier",
                "inputs": TEXTS,
                "classes": [i % 3 for i in range(32)],
                "class_names": ["x", "y"],
            },
        )
        model_id = await fitted(client, sandbox, named, unnamed)
        answer = (await ok(client, "tunethemodel_classify", {"model_id": model_id, "input": "text number 3"}))["answer"]
    assert by_label["class_names"] == ["ham", "spam"]
    assert named["class_names"] == ["no", "yes"]
    assert unnamed["class_names"] is None  # numbers with no names given: nothing to tell
    error = error_of(too_few)
    assert (error["kind"], error["code"]) == ("validation", "invalid_dataset")
    assert "class 2 has no name" in error["message"]
    assert answer["classes"] == dict(zip(["no", "yes"], answer["scores"], strict=True))
    # What the service received is class numbers, as it requires: strings were numbered in sorted order.
    files = sandbox.emulators.state("tunethemodel").files  # type: ignore[attr-defined]
    assert files[by_label["file_id"]].classes == [1 if label == "spam" else 0 for label in labels]


async def test_a_model_whose_names_are_unknown_answers_scores_alone(sandbox: RunningSandbox, state_dir: Path) -> None:
    numbers = [i % 2 for i in range(32)]
    inline = {"task_type": "classifier", "inputs": TEXTS, "classes": numbers}
    async with in_process(sandbox.env(), state_dir) as (server, _), Client(server, mode="legacy") as client:
        train = await ok(client, "tunethemodel_upload_dataset", {"name": "t", **inline})
        validate = await ok(client, "tunethemodel_upload_dataset", {"name": "v", **inline})
        model_id = await fitted(client, sandbox, train, validate)
        answer = (await ok(client, "tunethemodel_classify", {"model_id": model_id, "input": "anything"}))["answer"]
    assert "classes" not in answer
    assert len(answer["scores"]) == 2


def test_the_classify_schema_accepts_answers_with_and_without_classes() -> None:
    documents = bundled_documents()
    op = load_catalog(documents, trusted=documents).operations["tunethemodel_classify"]
    assert op.output_schema is not None
    validator = Draft202012Validator(op.output_schema)
    assert validator.is_valid({"answer": {"scores": [0.25, 0.75]}})
    assert validator.is_valid({"answer": {"scores": [0.25, 0.75], "classes": {"neg": 0.25, "pos": 0.75}}})
    assert not validator.is_valid({"answer": {"scores": [0.25, 0.75], "classes": {"neg": "high"}}})
