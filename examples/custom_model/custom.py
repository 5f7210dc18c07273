"""A DataRobot custom inference model (DRUM hooks): a keyword sentiment classifier with no artifacts.

DataRobot runs this file in the model's execution environment: `load_model` once, then `score` on each
batch of rows. Positive and negative are the target classes of a binary model.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

POSITIVE = ("fixed", "fast", "great", "love", "clear", "smooth", "perfect", "saved")
NEGATIVE = ("broken", "slow", "crash", "charged", "outage", "ignored", "wrong", "failed")


def load_model(code_dir: str) -> Any:
    # Nothing to load: the "model" is the keyword lists above.
    return None


def _positive_probability(text: str) -> float:
    words = str(text).lower()
    score = sum(w in words for w in POSITIVE) - sum(w in words for w in NEGATIVE)
    return min(0.95, max(0.05, 0.5 + 0.2 * score))


def score(data: pd.DataFrame, model: Any, **kwargs: Any) -> pd.DataFrame:
    positive = data["text"].map(_positive_probability)
    return pd.DataFrame({"positive": positive, "negative": 1 - positive})
