"""LNN vs HNN vs NeuralODE on the double pendulum, simulated and measured (Schmidt & Lipson 2009).

Trains the three models on simulated trajectories of the unit double pendulum and on trial 0 of
the measured rig (tested on trial 1), then reports the energy error of long rollouts, the true
system's maximal Lyapunov exponent and each model's valid prediction time in Lyapunov times.
Plots: energy error vs time, and error growth on a log scale with the e^{λt} slope drawn.

    python examples/double_pendulum.py --data ../shared/data [--mode smoke|quick|full] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from physwm.bench.double_pendulum import DoublePendulumConfig, chaos_table, plot_double_pendulum, run_double_pendulum


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("PHYSWM_DATA", "../shared/data"))
    ap.add_argument("--out", default="double-pendulum-example")
    ap.add_argument("--mode", default="quick", choices=["smoke", "quick", "full"])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res = run_double_pendulum(DoublePendulumConfig(mode=args.mode, device=args.device, data=args.data))
    rows = res["simulated"]["rows"] + res.get("measured", {}).get("rows", [])
    print(chaos_table(rows))
    if "measured" in res:
        rig = res["measured"]["rig"]
        print(f"fitted rig: m2/m1={rig['m2']:.3f}, l1={rig['l1']:.3f} m, l2={rig['l2']:.3f} m; "
              f"lambda_max at trial 0 / trial 1 energy: {rig['lambda_max_trial0']:.3f} / {rig['lambda_max_trial1']:.3f} 1/s")
    plots = plot_double_pendulum(out, res)
    (out / "double_pendulum.json").write_text(json.dumps(res, indent=1, default=str))
    print("wrote", ", ".join(str(out / p) for p in plots))
    return res


if __name__ == "__main__":
    main()
