"""statistics-scores.csv: the preset's and ent0's deterministic evaluations on seeds 101 to 180 (the screen
and the held-out seeds) as `natgrad statistics` rows, one algorithm per configuration."""
import csv
from pathlib import Path

here = Path(__file__).parent
rows = [dict(point="final", algorithm=f"acktr-{r['config']}", run=r["seed"], score=r["evaluation"])
        for scores in (here / "scores.csv", here / "held-out" / "scores.csv")
        for r in csv.DictReader(open(scores)) if r["config"] in ("preset", "ent0")]
with open(here / "statistics-scores.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["point", "algorithm", "run", "score"])
    writer.writeheader()
    writer.writerows(rows)
