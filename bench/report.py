#!/usr/bin/python3
"""Writes bench/RESULTS.md from the raw results bench/run_all collected.

    /usr/bin/python3 bench/report.py RESULTS_DIR OUTPUT.md

RESULTS_DIR holds machine.txt and, per benchmark id, ID.jsonl (result lines), ID.commands, ID.date,
ID.mode (full or quick) and ID.log. Every ratio in the table comes from one id's own run.
"""
import json
import os
import statistics
import sys

IDS = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"]

# Measured causes of known misses (profiles and component timings; see bench/README.md). Shown when a
# target is missed, next to the numbers of the same run that support them.
WHY = {
    "P1-bw": "a round is the exchange (one ping-pong-sized copy, done by each receiver inside MPI) plus the mix, "
             "which reads the own and the received vector and writes the result: {mix_share:.0%} of the round "
             "is spent after the exchange. The bare exchange alone reaches {exchange_ratio:.2f}x ping-pong "
             "bandwidth.",
    "P1-ar": "the round is slower than MPI_Allreduce at this size: exchange {exchange_ms:.3f} ms + mix.",
    "P2": "the round is the exchange of the boundary columns (waiting for the other rank) plus the mix; the mix's "
          "memory traffic and instruction profile are in bench/README.md (Gossip).",
    "P3": "GEMM-bound: the step's five products take {blas_share:.0%} of the step with OpenBLAS ({openblas_core}, "
          "{blas_gflops:.0f} GFLOP/s) and {gemm_share:.0%} of the Eigen step (AVX2+FMA, the library's flags: "
          "{eigen_gflops:.0f} GFLOP/s); OpenBLAS does them in {openblas_ratio:.2f}x Eigen's time, Eigen compiled for "
          "AVX-512 in {avx512_ratio:.2f}x{avx512_note}; bench/README.md (P3).",
    "P3-loop": "the loop's step is {loop_ms:.3f} ms, the isolated step of the same run {step_ms:.3f} ms "
               "({loop_share:+.0%}), PyTorch's own loop {torch_loop_ms:.3f} ms per step; the step itself is "
               "GEMM-bound (the first P3 row).",
    "P8": "{what} per layer: decent-bench-cnn --model {model} --profile 1 (bench/README.md, P8).",
    "P4-qsgd": "compute-bound: 46 instructions per coordinate (callgrind: one xoshiro draw, a double-precision "
               "scale, floor and compare, a BitWriter field) against about 0.1 for memcpy; bench/README.md (P4) "
               "says what it needs.",
    "P4-sign": "compute-bound: 13 instructions per coordinate (callgrind: a double-precision L1 pass, then the "
               "sign bits); bench/README.md (P4).",
    "P4-topk": "",
    "P5": "both need about the same number of steps, so the ratio is that of the time per step: {ours_ms:.2f} ms "
          "(decent, mean up to the target; its median step is {median_ms:.2f} ms, the difference being steps delayed "
          "by other processes) against {theirs_ms:.2f} ms (DDP).",
    "P6": "The probes' cost is fixed per probe ({probe_ms:.0f} ms here, most of it the 11 x 11 slice's evaluations "
          "and the gather of every node's parameters), so it is this share of a 600-step run and less of a longer "
          "one; decent-train has no switch to turn recording off (bench/README.md, P6).",
    "P6-evals": "",
    "P7-time": "the {base_nodes:.0f}-node rounds themselves spread from {base_low:.0f} to {base_high:.0f} us "
               "({base_spread:.0%} of their median) on this shared machine. The node-step slows once a rank's state "
               "(parameters and momentum, 1.6 MB per node) outgrows the cache: with a model 8x smaller the same "
               "step-up comes at 4x more nodes, at the same state per rank; bench/README.md (P7).",
    "P7-mem": "the process held {start_mb:.0f} MB when training started (the data, MPI and the libraries); training "
              "added {added_mb:.0f} MB = {vectors:.2f} d-vectors per node, where the state is 2: decent::train keeps a "
              "gradient buffer per node beside parameters and momentum (one more d-vector, {gradient_mb:.0f} MB here) "
              "and a batch buffer per node.",
}


def read_lines(path):
    lines = []
    if os.path.exists(path):
        with open(path) as f:
            for text in f:
                text = text.strip()
                if text.startswith('{"bench"'):
                    lines.append(json.loads(text))
    return lines


def read_text(path, default=""):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return f.read().strip()


def find(lines, case, **match):
    for line in lines:
        if line.get("case") == case and all(line.get(k) == v for k, v in match.items()):
            return line
    return None


def ms(seconds):
    return f"{1e3 * seconds:.3f} ms"


def gbs(rate):
    return f"{rate / 1e9:.2f} GB/s"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, pid, what, decent, baseline, ratio, target, met, why="", ratio_text=None):
        if met:
            verdict = "met"
        else:
            verdict = "**missed**"
        self.rows.append((pid, what, decent, baseline, ratio_text or f"{ratio:.3g}x", target,
                          verdict + (f": {why}" if why and not met else "")))

    def missing(self, pid, what):
        self.rows.append((pid, what, "-", "-", "-", "-", "not run (or failed; see its log)"))


def miss_by(ratio, limit, upper):
    """How far a ratio is from its bound, in words."""
    if upper:
        return f"{ratio / limit:.2f}x over the bound"
    return f"{limit / ratio:.2f}x short" if ratio > 0 else "no result"


def p1(lines, table):
    dims = sorted({line["d"] for line in lines if line["case"] == "gossip_round"})
    if not dims:
        table.missing("P1", "gossip round vs MPI")
    for d in dims:
        r, a, pp, ex = (find(lines, c, d=d) for c in ("gossip_round", "mpi_allreduce", "mpi_pingpong_roundtrip",
                                                     "mpi_exchange"))
        if None in (r, a, pp, ex):
            table.missing("P1", f"d = {d:.0e}")
            continue
        round_s, allreduce_s, one_way = r["median"], a["median"], pp["median"] / 2
        ratio = round_s / allreduce_s
        facts = {"exchange_ms": 1e3 * ex["median"], "mix_share": max(0.0, 1 - ex["median"] / round_s),
                 "exchange_ratio": one_way / ex["median"]}
        table.add("P1", f"ring round, 2 ranks x 1 node, d = {d:.0e}: time vs MPI_Allreduce", ms(round_s),
                  ms(allreduce_s), ratio, "<= 1.0x", ratio <= 1.0,
                  miss_by(ratio, 1.0, True) + "; " + WHY["P1-ar"].format(**facts))
        bw, ping = 4 * d / round_s, 4 * d / one_way
        ratio = bw / ping
        table.add("P1", f"same round, d = {d:.0e}: bandwidth (4d bytes / round) vs ping-pong", gbs(bw), gbs(ping), ratio,
                  ">= 0.8x", ratio >= 0.8, miss_by(ratio, 0.8, False) + "; " + WHY["P1-bw"].format(**facts))


def p2(lines, table):
    copy = find(lines, "memcpy_block")
    rounds = [line for line in lines if line["case"].startswith("gossip_round_")]
    if copy is None or not rounds:
        table.missing("P2", "64 nodes on 2 ranks")
        return
    copy_rate = copy["bytes_touched"] / copy["median"]
    for r in rounds:
        rate = r["bytes_touched"] / r["median"]
        ratio = rate / copy_rate
        spec = r["case"][len("gossip_round_"):]
        table.add("P2", f"{spec}, {r['nodes']:.0f} nodes on {r['ranks']:.0f} ranks, d = {r['d']:.0e}: bytes touched/s "
                  f"vs memcpy (round {ms(r['median'])})", gbs(rate), gbs(copy_rate), ratio, ">= 0.5x", ratio >= 0.5,
                  miss_by(ratio, 0.5, False) + "; " + WHY["P2"])


def p3(lines, table):
    step, torch_step = find(lines, "mlp_step"), find(lines, "torch_mlp_step")
    if step is None or torch_step is None:
        table.missing("P3", "MLP training step")
        return
    batch = step["batch"]
    ours, theirs = batch / step["median"], torch_step["batch"] / torch_step["median"]
    ratio = ours / theirs
    eigen, avx512, blas = find(lines, "gemm_eigen_avx2"), find(lines, "gemm_eigen_avx512"), find(lines, "gemm_openblas")
    eigen_step = find(lines, "mlp_step_eigen") or step
    facts = {"gemm_share": eigen["median"] / eigen_step["median"], "eigen_gflops": eigen["flops"] / eigen["median"] / 1e9,
             "blas_share": blas["median"] / step["median"] if blas["median"] else float("nan"),
             "blas_gflops": blas["flops"] / blas["median"] / 1e9 if blas["median"] else float("nan"),
             "openblas_ratio": blas["median"] / eigen["median"] if blas["median"] else float("nan"),
             "openblas_core": blas.get("openblas_core", "?"), "avx512_ratio": avx512["median"] / eigen["median"],
             "avx512_note": "" if avx512.get("avx512") else " (this CPU has no AVX-512: the same code as AVX2)"}
    gemm = step.get("gemm", "eigen")
    table.add("P3", f"MLP 784-256-10 step (loss, gradient, SGD momentum), batch {batch:.0f}, 1 thread, products: "
              f"{gemm}: samples/s vs PyTorch", f"{ours:,.0f}/s", f"{theirs:,.0f}/s", ratio, ">= 2x", ratio >= 2,
              miss_by(ratio, 2, False) + "; " + WHY["P3"].format(**facts))
    if eigen_step is not step:
        ours_eigen = eigen_step["batch"] / eigen_step["median"]
        ratio_eigen = ours_eigen / theirs
        table.add("P3", "the same step with Eigen's products (DECENT_GEMM=eigen) vs PyTorch", f"{ours_eigen:,.0f}/s",
                  f"{theirs:,.0f}/s", ratio_eigen, ">= 2x", ratio_eigen >= 2,
                  miss_by(ratio_eigen, 2, False) + "; " + WHY["P3"].format(**facts))
    p3_loop(lines, table, step)
    sizes = sorted((line["n"], line["openblas_s"] / line["eigen_s"]) for line in lines
                   if line.get("case", "").startswith("gemm_crossover_"))
    if sizes:
        # The smallest n from which OpenBLAS is faster at every measured size.
        wins = [n for k, (n, r) in enumerate(sizes) if all(q < 1 for _, q in sizes[k:])]
        at = wins[0] if wins else None
        table.add("P3", "square products n x n x n, OpenBLAS sgemm vs Eigen (where decent::gemm switches): "
                  + ", ".join(f"n = {n:.0f}: {r:.2f}x" for n, r in sizes), "-", "-", 0, "(information)", True,
                  ratio_text=f"OpenBLAS faster from n = {at:.0f}" if at else "Eigen faster at every n")


def p3_loop(lines, table, step):
    loop, torch_loop = find(lines, "decent_train_loop"), find(lines, "torch_mlp_loop")
    if loop is None or torch_loop is None:
        return
    ours, theirs = loop["batch"] / loop["median"], torch_loop["batch"] / torch_loop["median"]
    ratio = ours / theirs
    facts = {"loop_ms": 1e3 * loop["median"], "step_ms": 1e3 * step["median"],
             "loop_share": loop["median"] / step["median"] - 1, "torch_loop_ms": 1e3 * torch_loop["median"]}
    table.add("P3", f"the loop users run: decent-train (1 node, Fashion-MNIST, MLP 784-256-10, batch 64, no "
              f"communication; {loop['long'] - loop['short']:.0f} steps as the difference of a {loop['long']:.0f}- and a "
              f"{loop['short']:.0f}-step process) vs PyTorch's own loop on the same data", f"{ours:,.0f}/s",
              f"{theirs:,.0f}/s", ratio, ">= 2x", ratio >= 2, miss_by(ratio, 2, False) + "; " + WHY["P3-loop"].format(**facts))


def p8(lines, table):
    """Medians over the alternating rounds of each side's per-round medians."""
    for model in ["lenet5", "cnn-small"]:
        for case, what, unit in [("cnn_step", "training step", "batch"), ("cnn_eval", "evaluation pass", "batch")]:
            ours = [l for l in lines if l.get("case") == case and l.get("model") == model]
            theirs = [l for l in lines if l.get("case") == "torch_" + case and l.get("model") == model]
            if not ours or not theirs:
                table.missing("P8", f"{model} {what}")
                continue
            batch = ours[0]["batch"]
            mine = statistics.median(l["median"] for l in ours)
            torch_s = statistics.median(l["median"] for l in theirs)
            ratio = torch_s / mine
            table.add("P8", f"{model} {what}, 1x28x28, batch {batch:.0f}, 1 thread ({len(ours)} rounds, alternating): "
                      f"samples/s vs PyTorch", f"{batch / mine:,.0f}/s", f"{batch / torch_s:,.0f}/s", ratio, ">= 1.5x",
                      ratio >= 1.5, miss_by(ratio, 1.5, False) + "; " + WHY["P8"].format(what=what, model=model))


def p4(lines, table):
    torch_abs = find(lines, "torch_topk_abs")
    copy = find(lines, "memcpy")
    topk = next((line for line in lines if line["case"].startswith("encode_topk")), None)
    indices = find(lines, "top_k_indices")
    if torch_abs and topk:
        for case, label in ((topk, "top-k encode (selection + message)"), (indices, "top_k_indices (selection)")):
            if case is None:
                continue
            ratio = torch_abs["median"] / case["median"]
            table.add("P4", f"{label}, d = {case['d']:.0e}, k = {case['k']:.0e}: speed-up over torch.topk(x.abs(), k)",
                      ms(case["median"]), ms(torch_abs["median"]), ratio, ">= 10x", ratio >= 10,
                      miss_by(ratio, 10, False), ratio_text=f"{ratio:.3g}x faster")
    else:
        table.missing("P4", "top-k vs torch.topk")
    if copy is None:
        table.missing("P4", "encoders vs memcpy")
        return
    copy_rate = copy["bytes_touched"] / copy["median"]
    for line in lines:
        if not line["case"].startswith("encode_") or line["case"].startswith("encode_topk"):
            continue
        spec = line["case"][len("encode_"):]
        rate = line["bytes_touched"] / line["median"]
        ratio = rate / copy_rate
        why = WHY["P4-qsgd"] if spec.startswith("qsgd") else WHY["P4-sign"]
        table.add("P4", f"{spec} encode, d = {line['d']:.0e}: bytes touched/s vs memcpy (encode {ms(line['median'])})",
                  gbs(rate), gbs(copy_rate), ratio, ">= 0.5x", ratio >= 0.5, miss_by(ratio, 0.5, False) + "; " + why)


def p5(lines, table):
    ours, theirs = find(lines, "decent_time_to_accuracy"), find(lines, "ddp_time_to_accuracy")
    if ours is None or theirs is None or ours.get("median") is None or theirs.get("median") is None:
        table.missing("P5", "time to 85% (Fashion-MNIST)")
        return
    ratio = ours["median"] / theirs["median"]
    ours_step = statistics.median(s / n for s, n in zip(ours["samples"], ours["steps_to_target"]))
    theirs_step = statistics.median(s / n for s, n in zip(theirs["samples"], theirs["steps_to_target"]))
    facts = {"ours_ms": 1e3 * ours_step, "theirs_ms": 1e3 * theirs_step,
             "median_ms": 1e3 * (ours.get("median_step_s") or float("nan"))}
    table.add("P5", f"time to {ours['target']:.0%} test accuracy, MLP 784-256-10, 2 processes, global batch 64: "
              f"D-SGD (merged model; steps {ours['steps_to_target']}) vs DDP gloo (steps {theirs['steps_to_target']})",
              f"{ours['median']:.2f} s", f"{theirs['median']:.2f} s", ratio, "<= 0.25x", ratio <= 0.25,
              miss_by(ratio, 0.25, True) + "; " + WHY["P5"].format(**facts))


def p6(lines, table):
    recorded, recorder, evals, off = (find(lines, c) for c in ("recorded", "recorder", "evals", "off"))
    if None in (recorded, recorder, evals, off):
        table.missing("P6", "recording overhead")
        return
    what = f"default experiment ({recorded['nodes']:.0f} nodes, {recorded['steps']:.0f} steps, 2 ranks)"
    ratio = recorded["median"] / evals["median"]
    table.add("P6", f"{what}: HDF5 recorder + default probes vs neither (the same evals every 100 steps)",
              f"{recorded['median']:.3f} s", f"{evals['median']:.3f} s", ratio, "<= 1.03x", ratio <= 1.03,
              miss_by(ratio, 1.03, True) + f"; the recorder alone costs {recorder['median'] / evals['median'] - 1:.1%}, "
              f"the probes after the last step {recorded['median'] / recorder['median'] - 1:.1%}. " +
              WHY["P6"].format(probe_ms=1e3 * (recorded["median"] - recorder["median"])))
    ratio = recorded["median"] / off["median"]
    table.add("P6", f"{what}: recorder + probes + evals every 100 steps vs recording off (one eval at the end)",
              f"{recorded['median']:.3f} s", f"{off['median']:.3f} s", ratio, "<= 1.03x", ratio <= 1.03,
              miss_by(ratio, 1.03, True) + f"; the evals alone cost {evals['median'] / off['median'] - 1:.1%}: each "
              "evaluates the merged model and every node's model on 2000 test samples. " + WHY["P6-evals"])


def p7(lines, table):
    # run_all runs the node counts in several interleaved rounds: per count, the round with the median time.
    by_nodes = {}
    for line in lines:
        if line["case"] == "node_step":
            by_nodes.setdefault(line["nodes"], []).append(line)
    runs = []
    for nodes in sorted(by_nodes):
        rounds = sorted(by_nodes[nodes], key=lambda line: line["median"])
        runs.append(dict(rounds[(len(rounds) - 1) // 2], rounds=[line["median"] for line in by_nodes[nodes]]))
    if not runs:
        table.missing("P7", "scaling in nodes")
        return
    base = next((r for r in runs if r["nodes"] == 16), runs[0])
    for r in runs:
        ratio = r["median"] / base["median"]
        rounds = ", ".join(f"{1e6 * t:.0f}" for t in r["rounds"])
        table.add("P7", f"{r['nodes']:.0f} nodes on {r['ranks']:.0f} ranks (MLP, d = {r['d']:.0f}): time per node-step "
                  f"vs {base['nodes']:.0f} nodes (median of {len(r['rounds'])} rounds: {rounds} us)", f"{1e6 * r['median']:.1f} us", f"{1e6 * base['median']:.1f} us", ratio,
                  "<= 1.2x", ratio <= 1.2, miss_by(ratio, 1.2, True) + "; " + WHY["P7-time"].format(
                      base_nodes=base["nodes"], base_low=1e6 * min(base["rounds"]), base_high=1e6 * max(base["rounds"]),
                      base_spread=(max(base["rounds"]) - min(base["rounds"])) / base["median"]))
        budget = r["state_bytes"] + r["data_bytes"]
        ratio = r["peak_rss_bytes"] / budget
        vector_mb = r["state_bytes"] / 2 / 1e6  # one d-vector per node of this rank
        facts = {"gradient_mb": vector_mb, "start_mb": r["rss_before_train_bytes"] / 1e6,
                 "added_mb": (r["peak_rss_bytes"] - r["rss_before_train_bytes"]) / 1e6,
                 "vectors": (r["peak_rss_bytes"] - r["rss_before_train_bytes"]) / 1e6 / vector_mb}
        table.add("P7", f"{r['nodes']:.0f} nodes: peak RSS in training of the largest rank vs its state (params + "
                  "momentum; no feedback in D-SGD) + data", f"{r['peak_rss_bytes'] / 1e6:.0f} MB",
                  f"{budget / 1e6:.0f} MB ({r['state_bytes'] / 1e6:.0f} + {r['data_bytes'] / 1e6:.0f})", ratio,
                  "<= 1.2x", ratio <= 1.2, miss_by(ratio, 1.2, True) + "; " + WHY["P7-mem"].format(**facts))


def main():
    directory, output = sys.argv[1], sys.argv[2]
    machine = {}
    for text in read_text(os.path.join(directory, "machine.txt")).splitlines():
        key, _, value = text.partition("=")
        machine[key] = value
    table = Table()
    modes, dates, commands = {}, {}, {}
    lines_of = {}
    for pid in IDS:
        lines = read_lines(os.path.join(directory, f"{pid}.jsonl"))
        if not lines and not os.path.exists(os.path.join(directory, f"{pid}.date")):
            continue
        lines_of[pid] = lines
        modes[pid] = read_text(os.path.join(directory, f"{pid}.mode"), "?")
        dates[pid] = read_text(os.path.join(directory, f"{pid}.date"), "?")
        commands[pid] = read_text(os.path.join(directory, f"{pid}.commands")).splitlines()
        try:
            {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6, "P7": p7, "P8": p8}[pid](lines, table)
        except (KeyError, TypeError, ZeroDivisionError) as error:
            table.missing(pid, f"incomplete results ({error!r})")

    core = next((line.get("openblas_core") for line in lines_of.get("P3", []) if line.get("case") == "torch"), None)
    core_bench = next((line.get("openblas_core") for line in lines_of.get("P3", []) if line.get("case") == "gemm_openblas"),
                      None)
    out = []
    quick = [pid for pid, mode in modes.items() if mode != "full"]
    out.append("# decent benchmark results\n")
    if quick:
        out.append(f"> **QUICK MODE for {', '.join(quick)}: one repeat at small sizes, a smoke test, not results.** "
                   "Run `bench/run_all` without `--quick` on a quiet machine for the real table.\n")
    out.append("Written by `bench/run_all` (see `bench/README.md` for what each benchmark measures and how). Every "
               "figure is a median of the repeats shown in the raw lines; every ratio compares two medians measured "
               "in the same run, interleaved. Absolute times are for this machine only.\n")
    out.append("## Machine\n")
    out.append("| | |\n|---|---|")
    for key, label in [("date_utc", "report written (UTC)"), ("cpu", "CPU"), ("cores", "cores"),
                       ("cpu_flags", "SIMD flags"), ("kernel", "kernel"), ("compiler", "compiler"),
                       ("build_type", "build type"), ("cxx_flags", "decent's flags"), ("mpi", "MPI"),
                       ("mpi_env", "MPI transport"), ("openblas_env", "OpenBLAS settings"), ("torch", "python3-torch"),
                       ("git", "decent commit"), ("load_before_report", "load average at the end")]:
        out.append(f"| {label} | {machine.get(key, '?')} |")
    out.append(f"| OpenBLAS kernel in use | PyTorch: {core or '?'}; decent-bench-mlp's sgemm: {core_bench or '?'} |")
    out.append("")
    out.append("## Results\n")
    out.append("| id | what | decent | baseline | ratio | target | verdict |")
    out.append("|---|---|---|---|---|---|---|")
    for row in table.rows:
        out.append("| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |")
    out.append("")
    history = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    earlier = sorted(f for f in os.listdir(history) if f.endswith(".md")) if os.path.isdir(history) else []
    if earlier:
        out.append("## Earlier runs on other CPU kinds\n")
        out.append("Whole tables of earlier `bench/run_all` runs, each on the one machine its own Machine table names "
                   "(their rows hold for that CPU kind only):\n")
        for name in earlier:
            cpu = flags = "?"
            for text in read_text(os.path.join(history, name)).splitlines():
                if text.startswith("| CPU |"):
                    cpu = text.split("|")[2].strip()
                if text.startswith("| SIMD flags |"):
                    flags = text.split("|")[2].strip()
            out.append(f"- [results/{name}](results/{name}): {cpu}, {flags}")
        out.append("")
    out.append("## Runs\n")
    for pid in lines_of:
        out.append(f"### {pid} ({modes[pid]}, started {dates[pid]})\n")
        out.append("```sh")
        out.extend(commands[pid])
        out.append("```\n")
    out.append("Environment of every command: `OMPI_MCA_btl=self,vader OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "
               "GLOO_SOCKET_IFNAME=lo OPENBLAS_CORETYPE=<SkylakeX with AVX-512, Haswell with AVX2>`; every row was measured "
               "on the CPU of the Machine table; raw result "
               "lines and logs are in the results directory (`build-bench/bench-results/` by default).\n")
    with open(output, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
