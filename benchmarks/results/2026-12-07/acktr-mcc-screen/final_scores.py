"""statistics-scores.csv: the preset's and ent0's deterministic evaluations on seeds 101 to 180 (the screen
and the held-out seeds) as `natgrad statistics` rows, one algorithm per configuration."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
configs = ("preset", "ent0")
rows = score_rows.screen(here, configs, "acktr-") + score_rows.screen(os.path.join(here, "held-out"), configs, "acktr-")
score_rows.write(os.path.join(here, "statistics-scores.csv"), rows)
