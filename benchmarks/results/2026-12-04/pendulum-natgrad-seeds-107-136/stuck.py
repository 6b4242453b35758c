"""Counts, per final Pendulum-v1 policy, the deterministic episodes that never swing up (return below
-600: the pendulum rests near theta = +-2.73 rad, where the full torque of 2 balances gravity,
15 sin(theta) = 3 * 2), from `natgrad eval --csv` files or the peer benchmark's sb3-contrib
evaluation files. Usage: python3 stuck.py FILE.csv..."""
import csv
import sys

for path in sys.argv[1:]:
    returns = [float(r["return"]) for r in csv.DictReader(open(path))]
    stuck = sum(r < -600 for r in returns)
    print(f"{path}: {len(returns)} episodes, mean {sum(returns) / len(returns):.1f}, never swung up {stuck}")
