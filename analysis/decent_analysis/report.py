"""report.md: the runs, a table of their final numbers and the figures with captions."""
import math
import os

# How every number of the table is formatted (the tests format the file's values the same way).


def fmt_percent(value):
    """An accuracy in [0, 1] as a percent with 2 decimals: 0.8277 -> '82.77%'."""
    if value is None:
        return "no eval yet"
    if math.isnan(value):
        return "n/a"
    return f"{100 * value:.2f}%"


def fmt_points(value):
    """A gap in accuracy (fraction) as signed percentage points: 0.0163 -> '+1.63 pp'."""
    if value is None:
        return "no eval yet"
    if math.isnan(value):
        return "n/a"
    return f"{100 * value:+.2f} pp"


def fmt_general(value):
    """Consensus distance: 4 significant digits ('0.07485', '0')."""
    return "no eval yet" if value is None else f"{value:.4g}"


def fmt_gb(total_bytes):
    """Bytes as GB (1e9 bytes), 4 significant digits."""
    return f"{total_bytes / 1e9:.4g}"


def fmt_seconds(value):
    return "n/a" if value is None else f"{value:.2f}"


TABLE_HEADER = ["run", "file", "finished", "nodes", "ranks", "steps recorded", "last eval step",
                "merged acc", "local acc", "gap", "consensus distance", "sent (GB)", "wall (s)"]


def table_row(run):
    steps = str(run.steps_recorded)
    if not run.finished and run.steps_planned is not None:
        steps += f" of {run.steps_planned}"
    last_eval = run.final("eval_step")
    return [run.label, f"`{run.name}`", "yes" if run.finished else "**NO**", str(run.n_nodes),
            str(run.n_ranks), steps, "-" if last_eval is None else str(last_eval),
            fmt_percent(run.final("merged_acc")), fmt_percent(run.final("local_acc_mean")),
            fmt_points(run.final("mergeability_gap")), fmt_general(run.final("consensus_distance")),
            fmt_gb(run.total_bytes), fmt_seconds(run.wall_time)]


def _escape(cell):
    return cell.replace("|", "\\|")


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def warnings(runs):
    lines = []
    for run in runs:
        named = f"`{run.name}`" + (f" ({run.label})" if run.label != run.name else "")
        if not run.finished:
            planned = f" of {run.steps_planned} planned" if run.steps_planned is not None else ""
            final = ("its \"final\" numbers are those of its last eval row (step "
                     f"{run.final('eval_step')}), not of a completed run" if run.has_eval else "it has no eval")
            lines.append(f"> **UNFINISHED RUN: {named} says finished = 0.** Its steps are recorded only up "
                         f"to the last flush ({run.steps_recorded}{planned} steps); {final}.")
        if not run.has_eval:
            lines.append(f"> **No eval yet in {named}** (/eval is empty): its accuracy, gap and consensus "
                         f"are left out of the table and the figures.")
    return lines


def runs_section(runs):
    lines = []
    for run in runs:
        topology = run.topology.get("spec", run.config.get("topology", "?"))
        gap = run.topology.get("spectral_gap")
        topo = f"topology `{topology}`" + (f" (spectral gap {gap:.4g})" if isinstance(gap, float) else "")
        if run.is_server:
            topo = "server-based (gradients all-reduced every step)"
        when = f"started {run.started_utc}" + (f", finished {run.finished_utc}" if run.finished_utc else "")
        lines.append(f"- **{run.label}**: `{run.path}`: decent {run.version} (commit {run.git_commit or '?'}), "
                     f"{when}; {topo}; {run.schedule_description or 'no schedule description'}.")
    return lines


def shared_config(runs):
    first = runs[0].config
    shared = [(key, value) for key, value in first.items()
              if key not in ("out",) and all(run.config.get(key) == value for run in runs[1:])]
    if not shared:
        return []
    body = "\n".join(f"{key} = {value}" for key, value in shared)
    what = "Configuration" if len(runs) == 1 else "Configuration shared by all runs"
    return ["<details><summary>" + what + "</summary>", "", "```ini", body, "```", "", "</details>"]


DEFINITIONS = [
    "How the numbers are defined (all from the run files, docs/hdf5.md):",
    "",
    "- **final** = the last eval row (`/eval`, at \"last eval step\", 0-based as recorded); for an unfinished "
    "run that is the last eval before it stopped.",
    "- **merged acc**: `/eval/merged_acc` of that row, the test accuracy of x_bar (the mean of all nodes).",
    "- **local acc**: the mean over nodes of `/eval/local_acc` of that row (each node's own model).",
    "- **gap** (mergeability gap): merged acc - local acc in percentage points; `/eval/mergeability_gap` when "
    "the file has it, else computed from the two.",
    "- **consensus distance**: `/eval/consensus_distance` of that row, (1/n) sum_i ||x_i - x_bar||^2 "
    "(0 for server-based runs, whose nodes stay identical).",
    "- **sent (GB)**: the sum of `/train/bytes_sent` over the recorded steps / 1e9 (logical node-to-node "
    "payload).",
    "- **wall (s)**: `/train/wall_s` of the last recorded step (seconds since the start of training).",
    "- **steps recorded**: rows of `/train`; **finished**: the root attribute `finished`.",
    "- Accuracies are percent with 2 decimals; consensus distance and GB have 4 significant digits; "
    "\"n/a\" is a NaN (regression models have no accuracy).",
]


def write_report(runs, figures, skipped, outdir, title=None):
    """Writes outdir/report.md. figures: [(file, caption)]; skipped: sentences for figures not drawn."""
    title = title or ("decent run report: " + runs[0].name if len(runs) == 1 else
                      f"decent run report: {len(runs)} runs")
    lines = [f"# {title}", ""]
    notes = warnings(runs)
    if notes:
        lines += ["\n>\n".join(notes), ""]
    lines += ["## Runs", ""] + runs_section(runs) + [""]
    lines += shared_config(runs) + [""]
    lines += ["## Final numbers", "", markdown_table(TABLE_HEADER, [table_row(run) for run in runs]), ""]
    lines += DEFINITIONS + [""]
    lines += ["## Figures", ""]
    for file, caption in figures:
        lines += [f"![{caption}]({file})", "", f"*{caption}*", ""]
    for sentence in skipped:
        lines += [f"- {sentence}"]
    path = os.path.join(outdir, "report.md")
    with open(path, "w") as out:
        out.write("\n".join(lines).rstrip() + "\n")
    return path
