"""Loaded sentiment models, kept while their run is unchanged (analysing as one types loads a
model once, not at every key). Touched only on the engine thread."""
import os
from pathlib import Path

_PREDICTORS = {}             # run path -> (meta mtime, predictor); touched only on the engine thread


def cached_predictor(run_path: str):
    from engine.sentiment.predict import SentimentPredictor
    stamp = os.path.getmtime(Path(run_path) / "meta.json")
    hit = _PREDICTORS.get(run_path)
    if hit is None or hit[0] != stamp:
        hit = (stamp, SentimentPredictor.load(run_path))
        _PREDICTORS[run_path] = hit
    return hit[1]
