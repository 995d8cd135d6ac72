"""Score stage: scorecards, detectors and the pure scoring function."""

from pipeline.score.engine import score
from pipeline.score.scorecard import STANDARD_ITEM_IDS, LoadedScorecard, Scorecard, load_scorecard, load_scorecard_file

__all__ = ["STANDARD_ITEM_IDS", "LoadedScorecard", "Scorecard", "load_scorecard", "load_scorecard_file", "score"]
