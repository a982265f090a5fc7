"""The report's figures. Every function takes the runs and the output directory and returns
(file name, one-line caption), or None when no run has the data (the caller says so)."""
import math
import os
import textwrap

os.environ.setdefault("MPLBACKEND", "Agg")
import matplotlib  # noqa: E402
import matplotlib.lines  # noqa: E402
import matplotlib.ticker  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.colors import BoundaryNorm  # noqa: E402

DPI = 110


def color(index):
    return f"C{index % 10}"


def wrap(text, width=48):
    return "\n".join(textwrap.wrap(text, width)) or text


def legend(run, width=48):
    """The run's label for legends and titles, marked when the run did not finish."""
    return wrap(run.label + ("" if run.finished else " [UNFINISHED]"), width)


def smoothing_window(steps):
    """The moving-average window of the train-loss figure: about T/50 steps, at least 1."""
    return max(1, int(round(steps / 50)))


def moving_average(values, window):
    """Trailing moving average along axis 0 (the first window - 1 rows average what exists)."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) == 0:
        return values
    cumulative = np.cumsum(np.concatenate([np.zeros((1,) + values.shape[1:]), values]), axis=0)
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    counts = (ends - starts).reshape((-1,) + (1,) * (values.ndim - 1))
    return (cumulative[ends] - cumulative[starts]) / counts


def _grid(count, width=5.0, height=3.6, max_cols=3):
    cols = min(count, max_cols)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _legend_below(fig, ax, ncol=2):
    """The axes' legend as a figure legend under the plots, so that it hides no data."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=max(1, min(ncol, len(labels))), fontsize=8, frameon=False)
    return len(labels)


def _bottom_margin(fig, entries, ncol, line_inches=0.42):
    fig.tight_layout()
    rows = math.ceil(entries / max(ncol, 1))
    fig.subplots_adjust(bottom=min(0.5, (rows * line_inches + 0.55) / fig.get_figheight()))


def _save(fig, outdir, name, tight=True):
    if tight:
        fig.tight_layout()
    fig.savefig(os.path.join(outdir, name), dpi=DPI)
    plt.close(fig)
    return name


def train_loss(runs, outdir):
    drawn = [run for run in runs if run.steps_recorded > 0]
    if not drawn:
        return None
    fig, axes = _grid(len(drawn))
    for ax in axes[1:]:
        ax.sharey(axes[0])
    finite = np.concatenate([run.loss[np.isfinite(run.loss)] for run in drawn])
    log_y = finite.size and finite.min() > 0 and finite.max() / finite.min() > 20
    windows = []
    for ax, run in zip(axes, drawn):
        index = runs.index(run)
        window = smoothing_window(run.steps_recorded)
        windows.append(window)
        smooth = moving_average(run.loss, window)
        ax.plot(run.step, smooth, color=color(index), linewidth=0.6, alpha=0.35)
        ax.plot(run.step, smooth.mean(axis=1), color=color(index), linewidth=2.2, label="mean of nodes")
        ax.plot([], [], color=color(index), linewidth=0.6, alpha=0.5, label=f"each node ({run.n_nodes})")
        ax.set_title(legend(run), fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("train loss (mini-batch)")
        if log_y:
            ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both" if log_y else "major")
        ax.legend(fontsize=8)
    fig.suptitle("Training loss per node", fontsize=11)
    shown = ", ".join(sorted({str(w) for w in windows}, key=int))
    smoothing = (f"trailing moving average over {shown} steps (about T/50)"
                 if max(windows) > 1 else "not smoothed (T/50 rounds to 1 step)")
    caption = (f"Mini-batch training loss of every node (thin) and their mean (thick) against the step"
               f"{', log scale' if log_y else ''}; {smoothing}.")
    return _save(fig, outdir, "train_loss.png"), caption


def accuracy(runs, outdir):
    drawn = [run for run in runs if run.has_eval]
    if not drawn:
        return None
    has_acc = any(np.isfinite(run.merged_acc).any() for run in drawn)
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.4))
    for run in drawn:
        c = color(runs.index(run))
        marker = "o" if len(run.eval_step) <= 30 else None
        if np.isfinite(run.merged_acc).any():
            merged, local = 100 * run.merged_acc, 100 * run.local_acc_mean
            ax_acc.plot(run.eval_step, merged, color=c, marker=marker, markersize=4)
            ax_acc.plot(run.eval_step, local, color=c, linestyle="--", marker=marker, markersize=3)
            ax_acc.fill_between(run.eval_step, local, merged, color=c, alpha=0.15, linewidth=0)
        ax_loss.plot(run.eval_step, run.merged_loss, color=c, marker=marker, markersize=4, label=legend(run, 40))
        ax_loss.plot(run.eval_step, run.local_loss_mean, color=c, linestyle="--", marker=marker, markersize=3)
    if not has_acc:
        ax_acc.text(0.5, 0.5, "no accuracy (regression: NaN)", ha="center", transform=ax_acc.transAxes)
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.set_title("Test accuracy: merged (solid) vs mean local (dashed), gap shaded", fontsize=10)
    ax_loss.set_ylabel("test loss")
    ax_loss.set_title("Test loss: merged (solid) vs mean local (dashed)", fontsize=10)
    for ax in (ax_acc, ax_loss):
        ax.set_xlabel("eval step")
        ax.grid(alpha=0.3)
    entries = _legend_below(fig, ax_loss, ncol=3)
    _bottom_margin(fig, entries, 3)
    caption = ("Test accuracy (left) and loss (right) of the merged model x_bar (solid) and the mean over "
               "nodes of each node's own model (dashed) at every eval; the shaded band is the mergeability "
               "gap.")
    regression = [run.name for run in drawn if not np.isfinite(run.merged_acc).any()]
    if regression:
        caption += f" No accuracy (NaN: regression) for {', '.join(regression)}: loss only."
    skipped = [run.name for run in runs if not run.has_eval]
    if skipped:
        caption += f" Not drawn (no eval yet): {', '.join(skipped)}."
    return _save(fig, outdir, "accuracy.png", tight=False), caption


def consensus(runs, outdir):
    drawn = [run for run in runs if run.has_eval]
    if not drawn:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.8))
    zero_runs = []
    for run in drawn:
        c = color(runs.index(run))
        positive = run.consensus_distance > 0
        if not positive.any():
            zero_runs.append(run)
            ax.plot([], [], color=c, linestyle=":", label=legend(run, 50) + ": 0 at every eval (not drawn)")
            continue
        marker = "o" if len(run.eval_step) <= 30 else None
        ax.plot(run.eval_step[positive], run.consensus_distance[positive], color=c, marker=marker,
                markersize=4, label=legend(run, 50))
    if len(zero_runs) < len(drawn):
        ax.set_yscale("log")
    ax.set_xlabel("eval step")
    ax.set_ylabel("consensus distance")
    ax.set_title("Consensus distance (1/n) sum_i ||x_i - x_bar||^2", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    _bottom_margin(fig, _legend_below(fig, ax), 2)
    caption = ("Consensus distance (1/n) sum_i ||x_i - x_bar||^2 at every eval, log scale; zero values cannot be "
               "drawn and are left out")
    if zero_runs:
        caption += (f" ({', '.join(run.name for run in zero_runs)}: 0 at every eval, all nodes identical, "
                    f"e.g. server-based SGD)")
    caption += "."
    return _save(fig, outdir, "consensus.png", tight=False), caption


def bytes_sent(runs, outdir):
    drawn = [run for run in runs if run.steps_recorded > 0]
    if not drawn:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.4))
    for run in drawn:
        cumulative = np.cumsum(run.bytes_sent.astype(np.float64)) / 1e9
        ax.plot(run.step, cumulative, color=color(runs.index(run)), linewidth=1.8, label=legend(run, 50))
    ax.set_xlabel("step")
    ax.set_ylabel("bytes sent, cumulative (GB)")
    ax.set_title("Communication", fontsize=10)
    ax.grid(alpha=0.3)
    _bottom_margin(fig, _legend_below(fig, ax), 2)
    caption = ("Cumulative node-to-node payload (GB = 1e9 bytes, all nodes together, logical bytes as in "
               "docs/hdf5.md) against the step.")
    return _save(fig, outdir, "bytes.png", tight=False), caption


def _byte_unit(largest):
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if largest >= size:
            return unit, size
    return "bytes", 1.0


def schedule(runs, outdir):
    fig, axes = plt.subplots(len(runs), 1, figsize=(10, 2.0 * len(runs) + 1.0), squeeze=False, sharex=True)
    last_step = max([(run.steps_planned or run.steps_recorded or 1) for run in runs])
    for ax, run in zip(axes[:, 0], runs):
        c = color(runs.index(run))
        gossip = run.comm_rounds > 0
        top = max(1, int(run.comm_rounds.max())) if len(run.comm_rounds) else 1
        if run.steps_recorded:  # bytes of every step on the right axis: shows budgets and all-reduces too
            twin = ax.twinx()
            unit, size = _byte_unit(float(run.bytes_sent.max()))
            twin.plot(run.step, run.bytes_sent / size, color="0.2", linewidth=0.9)
            twin.set_ylim(0, max(float(run.bytes_sent.max()) / size, 1e-12) * 1.25)
            twin.set_ylabel(f"{unit} sent", fontsize=8, color="0.4")
            twin.tick_params(labelsize=7, colors="0.4")
        if gossip.any():
            ax.vlines(run.comm_step[gossip], 0, run.comm_rounds[gossip], color=c, linewidth=0.8, alpha=0.7)
            if gossip.sum() <= 60:
                ax.plot(run.comm_step[gossip], run.comm_rounds[gossip], "o", color=c, markersize=2.5)
        for step in run.merge_step:
            ax.axvline(step, color="red", linestyle=":", linewidth=1)
        if len(run.merge_step):
            ax.plot(run.merge_step, np.full(len(run.merge_step), top * 1.08), "v", color="red", markersize=7,
                    clip_on=False, zorder=4)
        if run.is_server:
            note = "server: gradients all-reduced at every step (no gossip schedule)"
        elif not len(run.comm_step):
            note = "no gossip and no merge"
        else:
            note = None
        if note:
            ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes, fontsize=9,
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))
        planned = run.steps_planned or run.steps_recorded
        if not run.finished and planned > run.steps_recorded:
            ax.axvspan(run.steps_recorded - 0.5, planned - 0.5, color="0.5", alpha=0.2, linewidth=0)
            ax.text((run.steps_recorded + planned) / 2, top * 0.5, "not recorded (unfinished)", ha="center",
                    fontsize=8, color="0.2")
        ax.set_ylim(0, top * 1.25)
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel("gossip rounds", color=c)
        ax.set_title(wrap(legend(run, 1000) + " - " + (run.schedule_description or "no schedule description"), 150),
                     fontsize=8)
        ax.set_xlim(-0.5, last_step * 1.01)
    axes[-1, 0].set_xlabel("step")
    handles = [matplotlib.lines.Line2D([], [], color="C0", linewidth=1.5),
               matplotlib.lines.Line2D([], [], color="red", marker="v", linestyle=":"),
               matplotlib.lines.Line2D([], [], color="0.2", linewidth=1)]
    fig.legend(handles, ["gossip rounds at the step (stems)", "exact merge", "bytes sent at the step (right axis)"],
               loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.subplots_adjust(bottom=0.75 / fig.get_figheight() + 0.45 / fig.get_figheight())
    caption = ("Communication schedule (/schedule): a stem at every step after which the nodes gossip, its "
               "height the number of rounds; red triangles and dotted lines are exact merges; dark line: bytes sent "
               "at each step (/train/bytes_sent, right axis); grey band: planned steps an unfinished run did not "
               "record.")
    return _save(fig, outdir, "schedule.png", tight=False), caption


def interpolation(runs, outdir):
    drawn = [run for run in runs if run.landscape is not None and run.landscape.has_interpolation]
    if not drawn:
        return None
    fig, axes = _grid(len(drawn))
    for ax, run in zip(axes, drawn):
        ls = run.landscape
        last = len(ls.step) - 1
        for l in range(last):
            for p in range(ls.interp_loss.shape[1]):
                ax.plot(ls.alpha, ls.interp_loss[l, p], color="gray", linewidth=0.6,
                        alpha=0.15 + 0.35 * (l + 1) / max(last, 1))
        nodes = ls.interp_nodes if ls.interp_nodes is not None else np.arange(ls.interp_loss.shape[1])
        cmap = plt.get_cmap("tab10" if len(nodes) <= 10 else "viridis")
        for p, node in enumerate(nodes):
            ax.plot(ls.alpha, ls.interp_loss[last, p], color=cmap(p if len(nodes) <= 10 else p / len(nodes)),
                    marker="o" if len(ls.alpha) <= 25 else None, markersize=3, linewidth=1.4,
                    label=f"node {node}" if len(nodes) <= 10 else None)
        title = f"{run.label} - step {ls.step[last]}"
        if ls.barrier is not None and ls.barrier.size:
            title += f", mean barrier {np.nanmean(ls.barrier[last]):.3g}"
        ax.set_title(wrap(title, 50), fontsize=9)
        ax.set_xlabel("a   (0: node's model x_i, 1: merged x_bar)")
        ax.set_ylabel("test loss")
        ax.grid(alpha=0.3)
        if len(nodes) <= 10:
            ax.legend(fontsize=7)
    caption = ("Test loss along (1 - a) x_i + a x_bar for the probed nodes at the last probe step (colours); "
               "earlier probes in grey, darker for later ones.")
    return _save(fig, outdir, "interpolation.png"), caption


def _plane_label(plane, k, scale):
    name = f"principal direction {k + 1}" if plane == "pca" else f"plane axis {k + 1}"
    return f"{name} (1 unit = {scale:.3g} in parameter space)"


def landscape(runs, outdir):
    drawn = [run for run in runs if run.landscape is not None and run.landscape.has_plane]
    if not drawn:
        return None
    fig, axes = _grid(len(drawn), width=5.6, height=4.8, max_cols=2)
    for ax, run in zip(axes, drawn):
        ls = run.landscape
        last = len(ls.step) - 1
        loss = np.ma.masked_invalid(ls.plane_loss[last])
        axis = ls.plane_axis
        # plane_loss[l, gu, gv]: u along x, v along y, so contourf gets the transpose.
        positive = loss.compressed()[loss.compressed() > 0]
        log_levels = positive.size and loss.min() > 0 and positive.max() / positive.min() > 20
        if loss.count() == 0 or loss.max() - loss.min() <= 1e-9 * max(1.0, abs(float(loss.mean()))):
            flat = "no finite loss" if loss.count() == 0 else f"test loss {float(loss.mean()):.4g} everywhere"
            ax.text(0.5, 0.35, f"{flat}\n(the nodes coincide: no plane to show)", ha="center", va="center",
                    transform=ax.transAxes, fontsize=9)
            ax.set_xlim(axis[0], axis[-1])
            ax.set_ylim(axis[0], axis[-1])
        elif log_levels:  # geometric levels, one colour step per level
            levels = np.geomspace(positive.min(), positive.max(), 21)
            filled = ax.contourf(axis, axis, loss.T, levels=levels, norm=BoundaryNorm(levels, 256),
                                 cmap="viridis")
            bar = fig.colorbar(filled, ax=ax, label="test loss (geometric levels)", ticks=levels[::4])
            bar.ax.set_yticklabels([f"{level:.3g}" for level in levels[::4]])
        else:
            filled = ax.contourf(axis, axis, loss.T, levels=20, cmap="viridis")
            fig.colorbar(filled, ax=ax, label="test loss")
        if ls.plane_nodes is not None and ls.plane_nodes.size:
            xy = ls.plane_nodes[last]
            ax.scatter(xy[:, 0], xy[:, 1], s=22, color="white", edgecolor="black", zorder=3, label="nodes x_i")
            if len(xy) <= 16:
                for i, (u, v) in enumerate(xy):
                    ax.annotate(str(i), (u, v), textcoords="offset points", xytext=(4, 3), fontsize=7,
                                color="black", path_effects=[patheffects.withStroke(linewidth=2,
                                                                                    foreground="white")])
        ax.plot(0, 0, "*", color="red", markersize=13, markeredgecolor="black", zorder=4, label="x_bar")
        scale = ls.plane_scale[last] if ls.plane_scale is not None else (1.0, 1.0)
        ax.set_xlabel(_plane_label(ls.plane, 0, scale[0]), fontsize=8)
        ax.set_ylabel(_plane_label(ls.plane, 1, scale[1]), fontsize=8)
        ax.set_title(wrap(f"{run.label} - step {ls.step[last]}, plane {ls.plane or '?'}", 50), fontsize=9)
        ax.set_aspect("equal")
        ax.legend(fontsize=7, loc="upper right")
    caption = ("Test loss on a plane through x_bar (red star, origin) at the last probe step, with every "
               "node's model projected onto it (white dots, numbered); axes in the plane's normalized "
               "coordinates (plane_axis; the labels give one unit's length in parameter space).")
    return _save(fig, outdir, "landscape.png"), caption


ALL = [train_loss, accuracy, consensus, bytes_sent, schedule, interpolation, landscape]
