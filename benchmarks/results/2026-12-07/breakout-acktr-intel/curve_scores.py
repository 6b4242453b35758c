"""scores.csv for `natgrad statistics --plot`, from the run's own files kept here: its training episodes
(sampled actions), their mean return in each 25k-step bin, and its evaluations during training (5 episodes,
sampled actions, as the Atari presets evaluate). One run, so no band."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
import score_rows  # noqa: E402  (benchmarks/score_rows.py)

here = os.path.dirname(os.path.abspath(__file__))
BIN = 25_000
episodes = score_rows.read(os.path.join(here, "episodes.csv"))
last = max(int(e["total_steps"]) for e in episodes)
rows = []
for end, returns, _ in score_rows.training_bins(episodes, BIN, last):
    if returns:
        rows.append(dict(point=end, algorithm="training episodes (mean per 25k steps)", run=1,
                         score=sum(returns) / len(returns)))
rows += [dict(point=e["total_steps"], algorithm="evaluation (5 episodes)", run=1, score=e["mean_reward"])
         for e in score_rows.read(os.path.join(here, "evaluations.csv"))]
score_rows.write(os.path.join(here, "scores.csv"), rows)
