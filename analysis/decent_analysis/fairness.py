"""Group fairness by partial information decomposition (Hamman and Dutta, ICLR 2024; docs/fairness.md).

Two halves that belong together: the measures of a distribution P(S, Z, Yhat) over clients S, a binary sensitive
attribute Z and a binary prediction Yhat (mutual informations, statistical parity, the BROJA decomposition), which
the library computes in C++ at every eval; and the run file's /fairness records of those measures, drawn over the
rounds next to the merged test accuracy, with a Markdown summary. Every information is in bits, 0 log 0 = 0.

    P = np.array(...).reshape(2, 2, 2)            # [s, z, yhat], any non-negative weights (normalised here)
    pid(P)["synergistic"]                         # Syn(Z: Yhat, S), the masked disparity
    items = load_fairness(["iid.h5", "synergy.h5"])  # [(Run, FairnessRecords)], RunError without /fairness
"""
import math
import os

import h5py
import numpy as np
from scipy.optimize import brentq

from .run import RunError, load_runs

LN2 = math.log(2.0)

# /fairness's per-eval series (docs/hdf5.md), all [E] float64 in bits except statistical parity.
TERMS = ("unique", "redundant", "synergistic", "unique_client", "mi_global", "mi_local", "mi_client",
         "statistical_parity")


# ------------------------------------------------------------------ measures of P(S, Z, Yhat)

def distribution(counts):
    """counts [K, 2, 2] (client, z, yhat), non-negative and finite, as a float array summing to 1.
    Raises ValueError for another shape, a negative or non-finite entry, or an empty histogram."""
    P = np.asarray(counts, dtype=float)
    if P.ndim != 3 or P.shape[1:] != (2, 2) or P.shape[0] < 1:
        raise ValueError(f"a fairness histogram has shape [clients, 2, 2] (client, Z, Yhat), got {list(P.shape)}")
    if not np.isfinite(P).all() or (P < 0).any():
        raise ValueError("a fairness histogram needs finite, non-negative counts")
    total = P.sum()
    if not total > 0:
        raise ValueError("a fairness histogram needs a positive total count")
    return P / total


def _entropy(p):
    """Shannon entropy in nats of the non-negative array p (need not sum to 1: sum -p log p)."""
    p = np.asarray(p, dtype=float).ravel()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def informations(counts):
    """I(Z; Yhat), I(Z; Yhat | S), I(Z; S) and I(Yhat; S) of the normalised histogram [K, 2, 2], in bits."""
    P = distribution(counts)
    h = _entropy
    p_sz, p_sy, p_zy = P.sum(axis=2), P.sum(axis=1), P.sum(axis=0)
    p_s, p_z, p_y = P.sum(axis=(1, 2)), P.sum(axis=(0, 2)), P.sum(axis=(0, 1))
    values = {
        "mi_global": h(p_z) + h(p_y) - h(p_zy),
        "mi_local": h(p_sz) + h(p_sy) - h(P) - h(p_s),
        "mi_client": h(p_z) + h(p_s) - h(p_sz),
        "mi_yhat_client": h(p_y) + h(p_s) - h(p_sy),
    }
    return {key: max(0.0, value / LN2) for key, value in values.items()}


def statistical_parity(counts):
    """P(Yhat = 1 | Z = 1) - P(Yhat = 1 | Z = 0) of the histogram; NaN without a sample of each group."""
    p_zy = distribution(counts).sum(axis=0)
    rows = p_zy.sum(axis=1)
    if not (rows > 0).all():
        return math.nan
    return float(p_zy[1, 1] / rows[1] - p_zy[0, 1] / rows[0])


def local_parity(counts):
    """Statistical parity per client, [K]; NaN for a client without a sample of each group."""
    P = distribution(counts)
    rows = P.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = P[:, 1, 1] / rows[:, 1] - P[:, 0, 1] / rows[:, 0]
    sp[~(rows > 0).all(axis=1)] = np.nan
    return sp


# The BROJA program for two clients. Q(z, yhat, s) = P(z) T_z(yhat, s), where T_z is a 2 x 2 table with P's rows
# P(yhat | z) and columns P(s | z): one free entry t_z = T_z(1, 1) per z. Its entries and their signs in t_z:
_CELLS = ((1, 1, +1), (1, 0, -1), (0, 1, -1), (0, 0, +1))  # (yhat, s, d entry / d t_z)


def _table(t, r, c):
    """T_z(yhat, s) for free entry t, row sum r = P(Yhat = 1 | z), column sum c = P(S = 1 | z)."""
    return {(1, 1): t, (1, 0): r - t, (0, 1): c - t, (0, 0): 1.0 - r - c + t}


def _clip(value):
    return value if value > 0 else 0.0


def _gradient(z, t, pz, r, c):
    """d/dt_z of -H_Q(Z | Yhat, S) (in nats), which differs from I_Q(Z; Yhat | S) by a constant on the polytope:
    P(z) sum over cells of sign * log Q(z | yhat, s). A cell that is empty for both values of z contributes 0 (its
    limit when t_z alone moves); one empty only for z contributes -inf or +inf, pointing into the polytope."""
    tables = [_table(t[w], r[w], c[w]) for w in (0, 1)]
    total = 0.0
    for yhat, s, sign in _CELLS:
        mine = pz[z] * _clip(tables[z][(yhat, s)])
        both = mine + pz[1 - z] * _clip(tables[1 - z][(yhat, s)])
        if both <= 0:
            continue
        total += sign * (math.log(mine / both) if mine > 0 else -math.inf)
    return pz[z] * total


def _argmin_convex(derivative, lo, hi):
    """The minimiser in [lo, hi] of a convex function of one variable given its (sub)derivative, which may be
    infinite at the ends. The ends are moved in by 1e-12 of the width, which changes the minimum by less than
    1e-10 bits (the derivative grows like a logarithm there)."""
    width = hi - lo
    if width <= 1e-15:
        return 0.5 * (lo + hi)
    a, b = lo + 1e-12 * width, hi - 1e-12 * width
    if derivative(a) >= 0:
        return a
    if derivative(b) <= 0:
        return b
    return brentq(derivative, a, b, xtol=1e-16, rtol=4 * np.finfo(float).eps, maxiter=400)


def _conditional_mi(Q):
    """I(Z; Yhat | S) in bits of Q[z, yhat, s]."""
    h = _entropy
    return (h(Q.sum(axis=1)) + h(Q.sum(axis=0)) - h(Q) - h(Q.sum(axis=(0, 1)))) / LN2


def pid(counts):
    """The BROJA decomposition (Bertschinger et al. 2014) of what (Yhat, S) say about Z, for two clients, in bits:
    unique = min over Q with P's (Z, Yhat) and (Z, S) margins of I_Q(Z; Yhat | S); redundant = I(Z; Yhat) -
    unique; synergistic = I(Z; Yhat | S) - unique; unique_client = I(Z; S) - redundant; plus the informations.
    The program is convex in (t_0, t_1), one free entry per value of z; it is solved by nested root finding on
    the derivative (the outer derivative is the inner problem's envelope), to about 1e-12 bits.
    Raises ValueError unless counts is a valid [2, 2, 2] histogram."""
    P = distribution(counts)
    if P.shape[0] != 2:
        raise ValueError(f"pid: the BROJA solver here is for 2 clients, got {P.shape[0]}")
    info = informations(P)
    out = dict(info)
    pz = P.sum(axis=(0, 2))
    if not (pz > 0).all():  # Z constant: every information about it is 0
        out.update(unique=0.0, redundant=0.0, synergistic=0.0, unique_client=0.0)
        return out
    r = [P[:, z, 1].sum() / pz[z] for z in (0, 1)]
    c = [P[1, z, :].sum() / pz[z] for z in (0, 1)]
    lo = [max(0.0, r[z] + c[z] - 1.0) for z in (0, 1)]
    hi = [min(r[z], c[z]) for z in (0, 1)]

    def inner(t0):
        return _argmin_convex(lambda t1: _gradient(1, (t0, t1), pz, r, c), lo[1], hi[1])

    t0 = _argmin_convex(lambda t: _gradient(0, (t, inner(t)), pz, r, c), lo[0], hi[0])
    t = (t0, inner(t0))
    Q = np.zeros((2, 2, 2))  # [z, yhat, s]
    for z in (0, 1):
        for (yhat, s), value in _table(t[z], r[z], c[z]).items():
            Q[z, yhat, s] = pz[z] * _clip(value)
    unique = min(max(0.0, _conditional_mi(Q)), info["mi_global"], info["mi_local"])
    redundant = info["mi_global"] - unique
    out.update(unique=unique, redundant=redundant, synergistic=info["mi_local"] - unique,
               unique_client=max(0.0, info["mi_client"] - redundant))
    return out


# ------------------------------------------------------------------ the /fairness records of a run

class FairnessRecords:
    """A run's /fairness group (docs/hdf5.md): one row per eval. `terms[name]` [E] for every name in TERMS,
    `local_parity` [E, n], `counts` [E, n, 2, 2] (client, Z, Yhat; None if absent), `merged_acc` [E] the
    /eval/merged_acc at the same steps (NaN where /eval has no row at that step)."""

    def __init__(self, f, run):
        name = run.path
        if "fairness" not in f or not isinstance(f["fairness"], h5py.Group):
            raise RunError(f"{name}: no /fairness group: not a federated run with a sensitive attribute "
                           f"(docs/fairness.md: dataset = synthetic-fair, group-file or sensitive)")
        g = f["fairness"]
        self.positive_class = int(g.attrs["positive_class"]) if "positive_class" in g.attrs else None
        self.clients = int(g.attrs["clients"]) if "clients" in g.attrs else run.n_nodes
        self.step = np.asarray(g["step"][()], dtype=np.int64) if "step" in g else np.zeros(0, np.int64)
        E, n = len(self.step), self.clients
        self.terms = {}
        for key in TERMS:
            if key not in g:
                if E == 0:
                    self.terms[key] = np.zeros(0)
                    continue
                raise RunError(f"{name}: /fairness/{key} is missing (docs/hdf5.md)")
            value = np.asarray(g[key][()], dtype=float).ravel()
            if len(value) != E:
                raise RunError(f"{name}: /fairness/{key} has {len(value)} rows but /fairness/step has {E} "
                               f"(damaged file?)")
            self.terms[key] = value
        self.local_parity = self._rows(g, "local_parity", (n,), name)
        self.counts = self._rows(g, "counts", (n, 2, 2), name, required=False)
        accuracy = dict(zip(run.eval_step.tolist(), run.merged_acc.tolist()))
        self.merged_acc = np.array([accuracy.get(int(s), math.nan) for s in self.step])

    def _rows(self, g, key, shape, name, required=True):
        E = len(self.step)
        if key not in g:
            if required and E:
                raise RunError(f"{name}: /fairness/{key} is missing (docs/hdf5.md)")
            return np.zeros((0,) + shape) if required else None
        value = np.asarray(g[key][()], dtype=float).ravel()
        if value.size != E * int(np.prod(shape)):
            raise RunError(f"{name}: /fairness/{key} has {value.size} values, expected {E} evals x "
                           f"{' x '.join(str(d) for d in shape)} (damaged file?)")
        return value.reshape((E,) + shape)

    @property
    def evals(self):
        return len(self.step)

    def final(self, key):
        """The last row's value of a TERMS series or of merged_acc; None without a row."""
        values = self.merged_acc if key == "merged_acc" else self.terms[key]
        return float(values[-1]) if len(values) else None

    def identity_residual(self):
        """max over rows of |mi_global - unique - redundant| and |mi_local - unique - synergistic| (bits)."""
        if not self.evals:
            return None
        t = self.terms
        return float(max(np.nanmax(np.abs(t["mi_global"] - t["unique"] - t["redundant"])),
                         np.nanmax(np.abs(t["mi_local"] - t["unique"] - t["synergistic"]))))

    def python_pid_difference(self):
        """max over rows and over unique/redundant/synergistic of |file - pid(counts)|: this module's solver
        against the library's on the recorded histograms; None unless the run has 2 clients and counts."""
        if self.counts is None or self.clients != 2 or not self.evals:
            return None
        worst = 0.0
        for e in range(self.evals):
            if not self.counts[e].sum() > 0:
                continue
            mine = pid(self.counts[e])
            for key in ("unique", "redundant", "synergistic"):
                worst = max(worst, abs(mine[key] - self.terms[key][e]))
        return worst


def load_fairness(paths):
    """[(Run, FairnessRecords)] for the run files, labelled as decent_report labels them; raises RunError,
    one line naming the file, for the first file that is not a decent run or has no /fairness group."""
    runs = load_runs(paths)
    items = []
    for run in runs:
        try:
            with h5py.File(run.path, "r") as f:
                items.append((run, FairnessRecords(f, run)))
        except RunError:
            raise
        except (OSError, KeyError, ValueError, TypeError) as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise RunError(f"{run.path}: damaged /fairness group ({message})") from None
    return items


# ------------------------------------------------------------------ figures and summary

def _plt():
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


DPI = 110
PID_STYLE = (("unique", "Uni (unique)", "C0", "-"), ("redundant", "Red (redundant)", "C1", "-"),
             ("synergistic", "Syn (masked)", "C2", "-"), ("mi_global", "I(Z;Yhat) = Uni + Red", "k", "--"),
             ("mi_local", "I(Z;Yhat|S) = Uni + Syn", "0.45", "-."), ("mi_client", "I(Z;S)", "C5", ":"))


def _panels(count, width=5.2, height=3.7, max_cols=3):
    plt = _plt()
    cols = min(count, max_cols)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.6), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _title(run, width=46):
    import textwrap
    text = run.label + ("" if run.finished else " [UNFINISHED]")
    return "\n".join(textwrap.wrap(text, width)) or text


def _finish(fig, outdir, name, handles, labels, ncol):
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.55 / fig.get_figheight(), 1, 1))
    fig.savefig(os.path.join(outdir, name), dpi=DPI)
    _plt().close(fig)
    return name


def pid_figure(items, outdir):
    """fairness_pid.png: per run, the PID terms and the informations over the rounds (left axis, bits) and the
    merged test accuracy (right axis). Returns (file, caption), or None when no run has a /fairness row."""
    drawn = [(run, rec) for run, rec in items if rec.evals]
    if not drawn:
        return None
    fig, axes = _panels(len(drawn))
    top = max(max(np.nanmax(rec.terms[key]) for key, *_ in PID_STYLE) for _, rec in drawn)
    handles = []
    for ax, (run, rec) in zip(axes, drawn):
        marker = "o" if rec.evals <= 30 else None
        handles = [ax.plot(rec.step, rec.terms[key], color=c, linestyle=ls, marker=marker, markersize=3,
                           linewidth=1.6, label=label)[0] for key, label, c, ls in PID_STYLE]
        ax.set_ylim(0, max(top, 1e-3) * 1.1)
        ax.set_xlabel("step (eval)")
        ax.set_ylabel("bits")
        ax.set_title(_title(run), fontsize=9)
        ax.grid(alpha=0.3)
        twin = ax.twinx()
        if np.isfinite(rec.merged_acc).any():
            handles.append(twin.plot(rec.step, 100 * rec.merged_acc, color="C4", linewidth=1.0, alpha=0.8,
                                     marker="." if marker else None, label="merged test accuracy (right)")[0])
        twin.set_ylim(0, 100)
        twin.set_ylabel("merged test accuracy (%)", fontsize=8, color="C4")
        twin.tick_params(labelsize=7, colors="C4")
    fig.suptitle("Disparity by partial information decomposition over the rounds", fontsize=11)
    caption = ("PID terms of the server model's predictions on the clients' training data at every eval "
               "(/fairness, bits): Uni, Red, Syn (solid), I(Z;Yhat) = Uni + Red (dashed), I(Z;Yhat|S) = Uni + Syn "
               "(dash-dot), I(Z;S) (dotted); the merged test accuracy /eval/merged_acc at the same steps on the "
               "right axis.")
    name = _finish(fig, outdir, "fairness_pid.png", handles, [h.get_label() for h in handles], 4)
    return name, caption


def parity_figure(items, outdir):
    """fairness_parity.png: per run, global statistical parity (thick) and every client's (thin) over the rounds."""
    drawn = [(run, rec) for run, rec in items if rec.evals]
    if not drawn:
        return None
    fig, axes = _panels(len(drawn))
    many = max(rec.clients for _, rec in drawn) > 10
    for ax, (run, rec) in zip(axes, drawn):
        marker = "o" if rec.evals <= 30 else None
        for s in range(rec.clients):
            values = rec.local_parity[:, s]
            ax.plot(rec.step, values, color="0.6" if many else f"C{(s + 1) % 10}", linewidth=0.9, alpha=0.9,
                    marker=None if many else marker, markersize=2.5,
                    label=None if many else f"client {s}")
        ax.plot(rec.step, rec.terms["statistical_parity"], color="k", linewidth=2.2, marker=marker, markersize=3.5,
                label="global")
        ax.axhline(0, color="0.3", linewidth=0.6)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel("step (eval)")
        ax.set_ylabel("P(Yhat=1 | Z=1) - P(Yhat=1 | Z=0)")
        ax.set_title(_title(run), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("Statistical parity, global and per client", fontsize=11)
    caption = ("Statistical parity P(Yhat=1 | Z=1) - P(Yhat=1 | Z=0) of the pooled predictions (thick, "
               "/fairness/statistical_parity) and of each client's (thin, /fairness/local_parity; a client without "
               "both groups is NaN and not drawn)" + (", clients in grey" if many else "") + ".")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "fairness_parity.png"), dpi=DPI)
    _plt().close(fig)
    return "fairness_parity.png", caption


def final_figure(items, outdir):
    """fairness_final.png: Uni, Red and Syn at every run's last eval, side by side (bits)."""
    drawn = [(run, rec) for run, rec in items if rec.evals]
    if not drawn:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.5, 1.9 * len(drawn) + 2.5), 4.4))
    x = np.arange(len(drawn))
    width = 0.26
    for k, (key, label, c, _) in enumerate(PID_STYLE[:3]):
        values = [rec.final(key) for _, rec in drawn]
        bars = ax.bar(x + (k - 1) * width, values, width, color=c, label=label)
        for bar, value in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{value:.3f}", ha="center",
                    va="bottom", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels([_title(run, 22) for run, _ in drawn], fontsize=8)
    ax.set_ylabel("bits")
    ax.set_title("PID terms at the last eval", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "fairness_final.png"), dpi=DPI)
    plt.close(fig)
    caption = ("Unique, redundant and masked (synergistic) disparity at each run's last eval (bits); their sums "
               "Uni + Red = I(Z;Yhat) and Uni + Syn = I(Z;Yhat|S).")
    return "fairness_final.png", caption


FIGURES = [pid_figure, parity_figure, final_figure]


def _number(value, digits=4, signed=False):
    if value is None:
        return "-"
    if math.isnan(value):
        return "n/a"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


SUMMARY_HEADER = ["run", "file", "evals", "last step", "merged acc", "I(Z;Yhat)", "I(Z;Yhat|S)", "I(Z;S)",
                  "Uni", "Red", "Syn", "Uni(Z:S\\Yhat)", "SP", "SP per client", "identities", "Python PID"]


def summary_row(run, rec):
    """One run's row of the summary table (strings), from its last /fairness row."""
    if not rec.evals:
        return [run.label, f"`{run.name}`", "0"] + ["-"] * (len(SUMMARY_HEADER) - 3)
    local = rec.local_parity[-1]
    if rec.clients <= 4:
        per_client = ", ".join(_number(v, 3, True) for v in local)
    else:
        finite = local[np.isfinite(local)]
        per_client = (f"{finite.min():+.3f} to {finite.max():+.3f}" if finite.size else "n/a")
    residual = rec.identity_residual()
    python = rec.python_pid_difference()
    acc = rec.final("merged_acc")
    return [run.label, f"`{run.name}`", str(rec.evals), str(int(rec.step[-1])),
            "n/a" if acc is None or math.isnan(acc) else f"{100 * acc:.2f}%",
            *(_number(rec.final(k)) for k in ("mi_global", "mi_local", "mi_client", "unique", "redundant",
                                             "synergistic", "unique_client")),
            _number(rec.final("statistical_parity"), 3, True), per_client,
            f"{residual:.1e}", "-" if python is None else f"{python:.1e}"]


NOTES = [
    "The numbers are the last /fairness row of each run (bits; docs/fairness.md). **SP** is statistical parity "
    "P(Yhat=1 | Z=1) - P(Yhat=1 | Z=0), pooled and per client (more than 4 clients: their range). **identities**: "
    "the largest |I(Z;Yhat) - Uni - Red| and |I(Z;Yhat|S) - Uni - Syn| over the rows. **Python PID**: the largest "
    "difference over the rows between the file's Uni, Red, Syn and this package's BROJA solver "
    "(decent_analysis.fairness.pid) on /fairness/counts (2 clients only, else -). **merged acc** is "
    "/eval/merged_acc at the same step.",
]


def markdown_table(header, rows):
    def line(cells):
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
    return "\n".join([line(header), "|" + "---|" * len(header)] + [line(row) for row in rows])


def write_summary(items, figures, skipped, outdir, title=None):
    """Writes outdir/fairness.md: the table of final values, its definitions and the figures with captions."""
    title = title or ("Fairness: " + items[0][0].name if len(items) == 1 else f"Fairness: {len(items)} runs")
    lines = [f"# {title}", ""]
    for run, rec in items:
        if not run.finished:
            lines += [f"> **UNFINISHED RUN: `{run.name}`** (finished = 0): its last row is its last flushed eval.", ""]
        if not rec.evals:
            lines += [f"> **No /fairness row yet in `{run.name}`**: left out of the figures.", ""]
    lines += ["## Final values", "", markdown_table(SUMMARY_HEADER, [summary_row(run, rec) for run, rec in items]),
              ""] + NOTES + ["", "## Figures", ""]
    for file, caption in figures:
        lines += [f"![{caption}]({file})", "", f"*{caption}*", ""]
    lines += [f"- {sentence}" for sentence in skipped]
    path = os.path.join(outdir, "fairness.md")
    with open(path, "w") as out:
        out.write("\n".join(lines).rstrip() + "\n")
    return path
