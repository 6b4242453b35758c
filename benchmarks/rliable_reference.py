"""rliable's own figures for the data sets of src/statistics.rs's test
`the_figures_are_rliables`: the interquartile mean and the probability of
improvement, each with its 95% stratified-bootstrap interval (50,000
resamples), for one task at a time.

    python3 -m venv /tmp/rl && /tmp/rl/bin/pip install rliable==1.2.0 "pandas<2.2"
    /tmp/rl/bin/python benchmarks/rliable_reference.py

(rliable 1.2.0 pulls arch 7.2, which fails to import with pandas 2.2 or newer.)
"""

import numpy as np
from rliable import library, metrics

# Deterministic evaluations of five seeds each, from docs/reproductions.md
# (2026-12-04): TRPO and VPG on CartPole-v1, and TRPO, K-FAC TRPO on Pendulum-v1.
DATA = {
    "cartpole_trpo": [438.16, 500.0, 500.0, 500.0, 500.0],
    "cartpole_vpg": [500.0, 500.0, 286.0, 500.0, 500.0],
    "pendulum_trpo": [-172.0, -171.0, -167.0, -176.0, -173.0],
    "pendulum_kfac": [-181.0, -194.0, -188.0, -184.0, -178.0],
    "spread": [3.0, 9.0, 1.0, 7.0, 5.0, 2.0, 8.0, 4.0, 6.0, 10.0],
}


def column(name):
    return np.array(DATA[name], dtype=float).reshape(-1, 1)  # runs x 1 task


def main():
    np.random.seed(0)
    for name in DATA:
        point, interval = library.get_interval_estimates(
            {name: column(name)}, lambda x: np.array([metrics.aggregate_iqm(x)]), reps=50000
        )
        low, high = interval[name][:, 0]
        print(f"iqm {name}: {point[name][0]!r} [{low!r}, {high!r}]")
    for x, y in [("cartpole_trpo", "cartpole_vpg"), ("pendulum_trpo", "pendulum_kfac")]:
        point, interval = library.get_interval_estimates(
            {f"{x},{y}": (column(x), column(y))}, metrics.probability_of_improvement, reps=50000
        )
        low, high = interval[f"{x},{y}"][:, 0]
        print(f"poi {x} > {y}: {point[f'{x},{y}']!r} [{low!r}, {high!r}]")


if __name__ == "__main__":
    main()
