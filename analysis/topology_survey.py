#!/usr/bin/python3
"""Survey of decent's topology catalogue: spectral gap against node count.

Runs `decent-topo --json` for every (topology, n) pair and writes, into the output directory:
  survey.csv          one row per pair (topology, nodes, edges, degrees, diameter, period, gap)
  survey.md           a table of the gaps, each checked against its closed form where one exists
  spectral_gap.png    gap against n on log-log axes, closed forms dashed
Exits 1 if any measured gap differs from its closed form by more than 1e-9 (relative).

Usage: topology_survey.py --decent-topo PATH [--topologies ring,torus,...] [--nodes 8,16,...] -o DIR
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys

DEFAULT_TOPOLOGIES = "ring,torus,exponential,one-peer-exponential,hypercube,base:1,base:2,random:1,complete"
DEFAULT_NODES = "8,16,32,64,128,256"


def closed_form(topology, n):
    """The spectral gap in closed form (docs/topologies.md), or None where there is none."""
    if topology == "ring" and n >= 3:
        return (2 / 3) * (1 - math.cos(2 * math.pi / n))
    if topology == "exponential" and n % 2 == 0:
        return 2 / (1 + math.ceil(math.log2(n)))
    if topology == "hypercube":
        return 2 / (1 + math.log2(n))
    if topology == "complete":
        return 1.0
    if topology == "torus":
        rows = max(r for r in range(1, int(math.isqrt(n)) + 1) if n % r == 0)
        cols = n // rows
        if rows >= 3:
            odd_gap = 0.4 * (1 - math.cos(2 * math.pi / max(rows, cols)))
            return min(0.4, odd_gap) if (rows % 2 == 0 or cols % 2 == 0) else odd_gap
    if topology in ("one-peer-exponential",) and n & (n - 1) == 0:
        return 1.0  # one period multiplies to J exactly
    if topology.startswith("base"):
        return 1.0  # every period multiplies to J exactly
    return None


def run(decent_topo, topology, n):
    result = subprocess.run([decent_topo, "--topology", topology, "--nodes", str(n), "--json"],
                            capture_output=True, text=True)
    if result.returncode == 2:
        return None, result.stderr.strip()  # an impossible size, e.g. hypercube on 12 nodes
    if result.returncode != 0:
        sys.exit(f"topology_survey: decent-topo failed for {topology} on {n} nodes: {result.stderr.strip()}")
    return json.loads(result.stdout), None


def plotted_gap(row):
    """The gap drawn in the figure: the spectral gap, or for random graphs (no period) the effective
    gap 1 - measured consensus rate, since one random round's ||W - J|| says little."""
    return row["spectral_gap"] if row["period"] != 0 else 1 - row["consensus_rate"]


def table(title, topologies, nodes, rows, cell):
    lines = [title, "", "| topology | " + " | ".join(f"n={n}" for n in nodes) + " |", "|---|" + "---|" * len(nodes)]
    for topology in topologies:
        cells = []
        for n in nodes:
            match = [r for r in rows if r["topology"] == topology and r["nodes"] == n]
            cells.append(cell(match[0]) if match else "-")
        lines.append(f"| {topology} | " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decent-topo", required=True, help="path to the decent-topo executable")
    parser.add_argument("--topologies", default=DEFAULT_TOPOLOGIES, help="comma-separated topology specs")
    parser.add_argument("--nodes", default=DEFAULT_NODES, help="comma-separated node counts")
    parser.add_argument("-o", "--output", required=True, help="output directory")
    args = parser.parse_args()
    if not os.access(args.decent_topo, os.X_OK):
        sys.exit(f"topology_survey: '{args.decent_topo}' is not an executable decent-topo")
    try:
        nodes = [int(v) for v in args.nodes.split(",")]
    except ValueError:
        sys.exit(f"topology_survey: --nodes must be comma-separated integers, got '{args.nodes}'")
    topologies = [t for t in args.topologies.split(",") if t]
    os.makedirs(args.output, exist_ok=True)

    rows, skipped, mismatches = [], [], []
    for topology in topologies:
        for n in nodes:
            data, why = run(args.decent_topo, topology, n)
            if data is None:
                skipped.append((topology, n, why))
                continue
            expected = closed_form(topology, n)
            if expected is not None and abs(data["spectral_gap"] - expected) > 1e-9 * max(1.0, expected):
                mismatches.append((topology, n, data["spectral_gap"], expected))
            rows.append({"topology": topology, "nodes": n, "edges": data["edges"],
                         "min_degree": data["min_degree"], "max_degree": data["max_degree"],
                         "peers_per_round": data["peers_per_round"], "diameter": data["diameter"],
                         "period": data["period"], "spectral_gap": data["spectral_gap"],
                         "consensus_rate": data["consensus_rate"],
                         "closed_form": "" if expected is None else expected})

    with open(os.path.join(args.output, "survey.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["topology"])
        writer.writeheader()
        writer.writerows(rows)

    lines = ["# Spectral gap of decent's topologies", "",
             "Gap = 1 - ||W - J||_2; for time-varying graphs, of the product over one period; for `random`, of "
             "round 0 alone. A value marked (checked) equals its closed form (docs/topologies.md) to 1e-9.", ""]
    lines += table("## Spectral gap", topologies, nodes, rows,
                   lambda r: f"{r['spectral_gap']:.5f}" + (" (checked)" if r["closed_form"] != "" else ""))
    lines += [""] + table("## Consensus rate", topologies, nodes, rows, lambda r: f"{r['consensus_rate']:.5f}")
    lines[-len(topologies) - 2:-len(topologies) - 2] = [
        "Measured per-round shrink factor of ||x - mean(x)|| over the first 200 rounds (decent-topo); "
        "0 is exact averaging, 1 no mixing.", ""]
    if skipped:
        lines += ["", "Not possible (decent-topo said why):"] + [f"- {t} on {n} nodes: {why}" for t, n, why in skipped]
    with open(os.path.join(args.output, "survey.md"), "w") as f:
        f.write("\n".join(lines) + "\n")

    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for topology in topologies:
        mine = [r for r in rows if r["topology"] == topology]
        points = [(r["nodes"], plotted_gap(r)) for r in mine if plotted_gap(r) > 0]
        if points:
            effective = any(r["period"] == 0 for r in mine)
            line, = ax.plot(*zip(*points), marker="o", label=topology + (" (1 - consensus rate)" if effective else ""))
            forms = [(n, closed_form(topology, n)) for n, _ in points if closed_form(topology, n) is not None]
            if forms and topology in ("ring", "torus", "exponential", "hypercube"):
                ax.plot(*zip(*forms), linestyle="--", color=line.get_color(), alpha=0.6)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("nodes n")
    ax.set_ylabel("spectral gap 1 - ||W - J||")
    ax.set_title("decent topologies: spectral gap (dashed: closed form)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(os.path.join(args.output, "spectral_gap.png"), dpi=120)

    print("\n".join(lines))
    print(f"\nwrote {args.output}/survey.csv, survey.md, spectral_gap.png")
    if mismatches:
        for t, n, got, want in mismatches:
            print(f"MISMATCH: {t} on {n} nodes: gap {got} but the closed form is {want}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
