"""A job's history in itself: what is recorded, its bounds, the compact view, storage and the terminal curves."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

from modelops_mcp.jobs import Job, JobStore
from modelops_mcp.jobs.curves import BLOCKS, curve_lines, sparkline
from modelops_mcp.jobs.history import COMPACT_POINTS, MAX_POINTS, MAX_STATES, History, thin
from modelops_mcp.jobs.report import show_job

AT = "2026-12-02T18:00:00.000Z"


def a_job() -> Job:
    return Job(id="histjob001", backend="training", operation="training_start_training", remote={"key": "k"})


def test_a_point_is_recorded_only_when_its_value_or_step_changes() -> None:
    history = History()
    assert history.add("loss", 1.2, AT, step=1)
    assert not history.add("loss", 1.2, AT, step=1)  # the same epoch read again
    assert history.add("loss", 1.2, AT, step=2)  # a new epoch with the same loss is still a point
    assert history.add("loss", 0.9, AT, step=2)
    assert not history.add("loss", math.nan, AT, step=3)  # a diverged loss is no point on a curve
    assert not history.add("loss", True, AT, step=3)  # type: ignore[arg-type]
    assert [(p.step, p.value) for p in history.series["loss"]] == [(1, 1.2), (2, 1.2), (2, 0.9)]
    assert history.points == {"loss": 3}


def test_a_state_is_recorded_only_when_status_or_state_changes() -> None:
    history = History()
    assert history.note_state(AT, "working", None)
    assert history.note_state(AT, "working", "training")
    assert not history.note_state(AT, "working", "training")
    assert history.note_state(AT, "completed", "trained")
    assert [(s.status, s.state) for s in history.states] == [
        ("working", None),
        ("working", "training"),
        ("completed", "trained"),
    ]


def test_series_and_states_are_bounded_oldest_first_and_say_how_many_went() -> None:
    history = History()
    for i in range(MAX_POINTS + 100):
        history.add("progress", i / 1000, AT)
    for i in range(MAX_STATES + 50):
        history.note_state(AT, "working", f"state-{i}")

    full = history.view("full")
    assert len(full["series"]["progress"]) == MAX_POINTS
    assert full["series"]["progress"][0]["value"] == 100 / 1000  # the 100 oldest were let go
    assert full["points"] == {"progress": MAX_POINTS + 100}
    assert full["dropped"] == {"progress": 100, "states": 50}
    assert len(full["states"]) == MAX_STATES
    assert full["states"][0]["state"] == "state-50"
    assert full["states_total"] == MAX_STATES + 50


def test_the_compact_view_thins_each_series_keeping_first_and_last() -> None:
    history = History()
    for i in range(100):
        history.add("loss", 100 - i, AT, step=i + 1)
    history.add("accuracy", 0.5, AT, step=1)
    for i in range(40):
        history.note_state(AT, "working", f"s{i}")

    compact = history.view()
    loss = compact["series"]["loss"]
    assert len(loss) == COMPACT_POINTS
    assert (loss[0]["step"], loss[-1]["step"]) == (1, 100)
    assert [p["step"] for p in loss] == sorted({p["step"] for p in loss})  # evenly spread, none twice
    assert compact["series"]["accuracy"] == [{"at": AT, "step": 1, "value": 0.5}]
    assert compact["points"] == {"loss": 100, "accuracy": 1}  # what was left out can be told
    assert "dropped" not in compact  # nothing was let go from storage
    states = compact["states"]
    assert len(states) == COMPACT_POINTS
    assert (states[0]["state"], states[-1]["state"]) == ("s0", "s39")  # the start, then the latest
    assert compact["states_total"] == 40
    assert len(history.view("full")["series"]["loss"]) == 100


def test_thin_spreads_evenly_and_keeps_short_lists_whole() -> None:
    assert thin(list(range(10)), 24) == list(range(10))
    thinned = thin(list(range(1000)), 24)
    assert len(thinned) == 24
    assert (thinned[0], thinned[-1]) == (0, 999)
    gaps = {b - a for a, b in itertools.pairwise(thinned)}
    assert max(gaps) - min(gaps) <= 1


def test_a_jobs_public_view_carries_its_history_as_asked() -> None:
    job = a_job()
    before = job.visible()
    job.note()
    job.progress, job.state = 0.25, "training"
    assert job.note({"loss": (1, 1.1), "accuracy": (1, 0.6)})
    assert job.visible() != before  # a new point is a change worth telling subscribers
    marked = job.visible()
    assert not job.note({"loss": (1, 1.1), "accuracy": (1, 0.6)})
    assert job.visible() == marked

    assert "history" not in job.public("none")
    shown = job.public()["history"]
    assert [(s["status"], s["state"]) for s in shown["states"]] == [("working", None), ("working", "training")]
    assert shown["states"][0]["at"] == job.created_at  # the first entry is the job's creation
    assert {name: [p["value"] for p in points] for name, points in shown["series"].items()} == {
        "progress": [0.25],
        "loss": [1.1],
        "accuracy": [0.6],
    }
    assert shown["series"]["progress"][0]["step"] is None


def test_the_history_is_stored_with_the_job(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        job = a_job()
        job.note({"loss": (3, 0.7)})
        store.insert(job)
        again = store.get(job.id)
    finally:
        store.close()
    assert again is not None
    assert again.history == job.history
    assert again.history.last("loss") is not None


def test_a_job_stored_before_histories_reads_with_an_empty_one(tmp_path: Path) -> None:
    old = Job.model_validate({"id": "oldjob0001", "backend": "caila", "operation": "caila_fit_service", "remote": {}})
    assert old.public()["history"] == {"states": [], "series": {}, "points": {}, "states_total": 0}


def test_a_sparkline_rises_with_its_values_and_a_flat_one_sits_level() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == BLOCKS
    assert sparkline([0.9, 0.6, 0.1]) == "█▅▁"
    assert len(set(sparkline([0.3] * 5))) == 1
    assert len(sparkline([float(i) for i in range(500)], width=32)) == 32


def test_show_job_prints_the_timeline_and_a_curve_per_series() -> None:
    job = a_job()
    job.note()
    job.state = "training"
    for epoch, (loss, accuracy) in enumerate([(1.3, 0.5), (0.8, 0.7), (0.4, 0.85)], start=1):
        job.note({"loss": (epoch, loss), "accuracy": (epoch, accuracy)})
    job.status, job.state = "completed", "trained"
    job.note()

    shown = show_job(job)
    assert "timeline   working → working (training) → completed (trained)" in shown
    loss = next(line for line in shown.splitlines() if "loss" in line)
    assert "█▄▁" in loss
    assert "min 0.4  max 1.3  last 0.4  steps 1-3" in loss
    accuracy = next(line for line in shown.splitlines() if "accuracy" in line)
    assert "▁▅█" in accuracy
    assert curve_lines({"series": {}}) == []
