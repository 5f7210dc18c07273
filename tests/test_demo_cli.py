"""`modelops-mcp demo` as the README runs it: no --backend, so every journey, then a summary of what each proved."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support import server_env

JOURNEYS = ("caila", "training", "pieces", "tunethemodel", "datarobot")


def test_demo_without_backend_runs_all_five_journeys_and_sums_up_each(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", "demo", "--speed", "600"],
        capture_output=True,
        text=True,
        timeout=150,
        env=server_env({}, tmp_path / "state"),
        stdin=subprocess.DEVNULL,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert f"modelops-mcp demo: {', '.join(JOURNEYS)} on the local sandbox (600x)" in out
    sections = re.findall(r"^== (\w+) ==$", out, re.MULTILINE)
    assert tuple(sections) == JOURNEYS

    steps = (
        *("caila_list_datasets", "caila_create_derived_service", "caila_list_fit_configs", "caila_fit_service"),
        *("training_start_session", "training_update_config", "training_upload_dataset", "training_preprocess"),
        *("training_start_training", "training_download_model", "pieces_download_model", "pieces_load_model"),
        *("tunethemodel_create_model", "tunethemodel_upload_dataset", "tunethemodel_bind_datasets"),
        *("tunethemodel_fit_model", "tunethemodel_classify", "datarobot_create_custom_model"),
        *("datarobot_create_custom_model_version", "datarobot_start_dependency_build", "datarobot_upload_dataset"),
        "datarobot_create_custom_model_test",
    )
    for step in steps:
        assert f"→ {step}(" in out
    # Each journey's own evidence, as it scrolls by.
    assert "completed, state SUCCESS" in out  # the Caila fit
    # The Caila fit was waited on with jobs_wait, its progress arrived as notifications (at least the start and
    # the end), and the fitted service is ready (what tests/test_cli.py's Caila-only demo run checked).
    caila = out[out.index("== caila ==") : out.index("== training ==")]
    assert "→ jobs_wait(" in caila
    notified = re.search(r"(\d+) progress notifications received", caila)
    assert notified is not None
    assert int(notified.group(1)) >= 2
    assert "is ready to use" in caila
    assert "40 training and 10 validation rows" in out
    assert re.search(r"epoch \d/3 · loss \d\.\d{4}", out)  # live metrics while training
    assert re.search(r"saved \d+ bytes to \S+bert-base-cased-trained\.zip", out)
    assert "epoch,loss,accuracy,f1" in out  # the downloaded results file, read back
    # The training curve from the job's history: a sparkline per metric, however many epochs the polls saw.
    assert "training curve, from the job's history:" in out
    for metric in ("loss", "accuracy", "f1"):
        assert re.search(rf"^ +{metric} +[▁▂▃▄▅▆▇█]+  min \d\.\d+  max \d\.\d+  last \d\.\d+  steps \d-3$", out, re.M)
    assert "completed, state COMPLETED" in out  # the Pieces download, followed over its WebSocket
    assert "is loaded and ready" in out
    assert "40 rows of sentiment-train.csv sent to the presigned URL (negative=0, positive=1)" in out
    # The classify answers name their classes: the server kept the CSV's labels from the upload.
    assert re.search(r"'The export is broken again': negative \d\.\d\d, positive \d\.\d\d", out)
    assert "completed, state Ready" in out
    assert "with README.md, custom.py, requirements.txt" in out  # the example folder went up as three parts
    assert re.search(r"errorCheck +succeeded", out)
    assert re.search(r"dataset [0-9a-f]{24} \(sentiment-test\.csv, 10 rows\) is ready to test on", out)
    assert "passed its test (succeeded)" in out

    # The closing summary: one line per journey, in order, each saying what it proved.
    tail = out[out.index("\nsummary: ") :]
    assert tail.startswith("\nsummary: 5 of 5 journeys passed\n")
    lines = re.findall(r"^  ok   (\w+) +(.+)$", tail, re.MULTILINE)
    assert [backend for backend, _ in lines] == list(JOURNEYS)
    proved = dict(lines)
    assert re.fullmatch(
        r"derived 'my-classifier-\d+' from text-classifier and fitted it on support-tickets: .*SUCCESS.*",
        proved["caila"],
    )
    assert "3 epochs of training" in proved["training"]
    assert "downloaded" in proved["training"]
    assert proved["pieces"] == "downloaded Llama-3 8B Instruct with progress pushed over the WebSocket, then loaded it"
    assert "fitted to Ready, 2 texts classified" in proved["tunethemodel"]
    assert "202 → status → 303 (succeeded)" in proved["datarobot"]
    assert "FAIL" not in tail
    assert "demo failed" not in out
    assert re.search(r"^done in \d+\.\ds", tail, re.MULTILINE)
    assert time.monotonic() - started < 150


def test_a_failed_journey_is_named_in_the_summary_and_the_others_still_run(tmp_path: Path) -> None:
    args = ("demo", "--speed", "600", "--dataset", "broken-labels", "--backend", "caila", "--backend", "pieces")
    done = subprocess.run(
        [sys.executable, "-m", "modelops_mcp", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=server_env({}, tmp_path / "state"),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    out = done.stdout
    assert "failed, state FAILED" in out
    assert re.findall(r"^== (\w+) ==$", out, re.MULTILINE) == ["caila", "pieces"]  # pieces ran after the failure
    assert "\nsummary: 1 of 2 journeys passed\n" in out
    assert re.search(r"^  FAIL caila +the fit failed: Fit failed: dataset 'broken-labels'", out, re.MULTILINE)
    assert re.search(r"^  ok   pieces +downloaded .* then loaded it$", out, re.MULTILINE)
    assert "demo failed: caila: the fit failed: Fit failed: dataset 'broken-labels'" in out
    assert "done in" not in out
