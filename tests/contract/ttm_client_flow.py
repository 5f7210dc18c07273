"""The official Tune the Model client (tune-the-model 0.1.33) against our sandbox: its own one-call fit flow.

Run with the client's own python (`.ci/.clients/tune-the-model/bin/python`) by
tests/contract/test_tunethemodel_client.py, with TTM_API_URL and TTM_API_KEY pointing at the sandbox. Prints
one JSON object: the steps, each with what the client saw, or the exception that stopped the step. The
pytest asserts the values; this script judges nothing itself.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

import tune_the_model as ttm
from tune_the_model.resource import TuneTheModelAPI

POSITIVE = ["great support, fixed fast", "love the new export", "quick and friendly answer", "works well now"]
NEGATIVE = ["the export is broken again", "slow and rude reply", "crashes on every start", "lost all my data"]


def rows(count: int) -> tuple[list[str], list[int]]:
    """`count` labelled texts, both classes: 1 positive, 0 negative."""
    texts, labels = [], []
    for i in range(count):
        positive = i % 2 == 0
        pool = POSITIVE if positive else NEGATIVE
        texts.append(f"{pool[i // 2 % len(pool)]} #{i}")
        labels.append(1 if positive else 0)
    return texts, labels


def main() -> None:
    steps: list[dict[str, Any]] = []

    def step(name: str, action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            # The client prints "Model status is ..." to stdout while it waits: keep stdout for our JSON.
            with contextlib.redirect_stdout(sys.stderr):
                seen = action()
            steps.append({"step": name, "ok": True, **seen})
            return seen
        except Exception as exc:  # the report carries it; the pytest says which step and why
            steps.append({"step": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
            traceback.print_exc()
            raise

    train_x, train_y = rows(40)
    validate_x, validate_y = rows(32)
    model: Any = None

    def tune() -> dict[str, Any]:
        # The client's one-call flow: create the model, create and upload both files, bind, check the status
        # reads DatasetsLoaded, fit (tune_the_model/cli.py:652 -> fit, 358-395).
        nonlocal model
        model = ttm.tune_classifier(
            train_X=train_x,
            train_y=train_y,
            validate_X=validate_x,
            validate_y=validate_y,
            num_classes=2,
            name="contract-sentiment",
        )
        return {"model_id": model._id, "status_after_fit": model.status.value}

    def wait() -> dict[str, Any]:
        model.wait_for_training_finish(sleep_for=0.05)
        return {"status": model.status.value}

    def files() -> dict[str, Any]:
        listed = ttm.TuneTheModelFile.files()
        return {"files": sorted((f._file_name, f.status.value) for f in listed)}

    def classify() -> dict[str, Any]:
        return {
            "positive_text": model.classify(input="great support, fixed fast"),
            "negative_text": model.classify(input="the export is broken again"),
        }

    def listed() -> dict[str, Any]:
        return {"models": [(m._id, m.name, m.status.value) for m in ttm.TuneTheModel.models()]}

    def bad_file() -> dict[str, Any]:
        # Rows the service cannot load (33 labels for 32 texts; the client only checks each has 32): the PUT
        # succeeds like any presigned upload, and the client binds and fits before loading ends. The bad rows
        # are the validation file's, the one uploaded last, so a slow machine still binds before it fails.
        bad = ttm.TuneTheModel.create_classifier(name="contract-bad-file", num_classes=2)
        texts, labels = rows(32)
        bad.fit(train_X=train_x, train_y=train_y, validate_X=texts, validate_y=[*labels, 0])
        after_fit = bad.status.value
        try:
            bad.wait_for_training_finish(sleep_for=0.05)
            raised = None
        except ttm.TuneTheModelException as exc:
            raised = str(exc)
        answer = TuneTheModelAPI.status(bad._id)
        return {
            "status_after_fit": after_fit,
            "raised": raised,
            "status": answer["status"],
            "error": answer.get("error"),
        }

    def delete() -> dict[str, Any]:
        model.delete()
        return {"models_left": [m._id for m in ttm.TuneTheModel.models()]}

    try:
        for name, action in [
            ("tune_classifier", tune),
            ("wait_for_training_finish", wait),
            ("files", files),
            ("classify", classify),
            ("models", listed),
            ("a_file_that_fails", bad_file),
            ("delete", delete),
        ]:
            step(name, action)
    except Exception:
        pass  # recorded in its step; the later steps depend on it
    print(json.dumps({"client": "tune-the-model", "version": "0.1.33", "steps": steps}))


if __name__ == "__main__":
    main()
