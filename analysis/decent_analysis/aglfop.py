"""AGLFOP, the Accuracy and Global-Local Fairness Optimality Problem of Hamman and Dutta (ICLR 2024, section 3.2
of shared/REFERENCES-FL.md), for two clients: the least error any classifier can reach on a data split under a
global bound I(Z; Yhat) <= eps_g and a local bound I(Z; Yhat | S) <= eps_l (bits). It trains no model: its input
is the data's counts n(client S, sensitive attribute Z, label Y), its variables the normalised confusion matrix
(TP, FN, FP, TN) of every (client, group) cell.

What Yhat may depend on. With `yhat_depends_on = "szy"` (the paper's program) every cell's TP in [0, n(s,z,1)] and
FP in [0, n(s,z,0)] is free: Yhat may depend on the client, the group, the true label and private randomness, so
without fairness bounds the error is 0 (Yhat = Y). With "sz" each cell must accept its positives and negatives at
the same rate (TP n(s,z,0) = FP n(s,z,1), linear): Yhat depends on (S, Z) and randomness only, and the
unconstrained error is the sum over cells of min(positives, negatives) / N, the Bayes error of (S, Z) -> Y.

The program is convex: both informations are convex functions of the cells' acceptance masses TP + FP (a mutual
information is convex in the channel for a fixed input law, and P(S, Z) is fixed by the equalities), the objective
and the equalities are linear. SLSQP from several seeded starts therefore finds one optimum; the starts guard
against a failed run of the solver, and their spread is reported. eps = 0 is imposed as the equivalent linear
equalities (equal acceptance rates), since the inequality's gradient vanishes on I = 0.

    counts = synthetic_fair_counts("fair-synergy", alpha=0.95)    # [2, 2, 2] n(s, z, y)
    best = solve(counts, eps_global=0.05, eps_local=math.inf)      # Solution: error, P(S, Z, Yhat), PID, ...
    rows = sweep(counts, [0, 0.05, 0.1], [0, 0.05, 0.1])
"""
import csv
import io
import json
import math
import os
import time
import warnings

import numpy as np
from scipy.optimize import minimize

from .fairness import LN2, informations, pid

K = 2  # clients
CELLS = 2 * K  # (client, group) cells, index s * 2 + z
TP, FN, FP, TN = range(4)  # a cell's four variables, x[4 * cell + k]
FEASIBILITY_TOL = 1e-9  # a solution counts as feasible when every constraint holds to this
RESTARTS = 10  # SLSQP runs chained from one start at most
# Every variable is kept >= INTERIOR times its cell's count (the informations' derivatives are -infinite on the
# boundary, and SLSQP's linearisation with a finite stand-in cuts off feasible points); moves the error < 1e-11.
INTERIOR = 1e-12
DEPENDS_ON = ("szy", "sz")
SPLITS = ("fair-iid", "fair-heterogeneity:P", "fair-synergy")


class AglfopError(ValueError):
    """Bad input to the program (malformed counts, a negative bound, ...) or no feasible solution; str() is one
    line saying what is wrong and where."""


# ------------------------------------------------------------------ the data's counts

def check_counts(counts, where="counts"):
    """counts as a float array [2, 2, 2] indexed (client, z, y); AglfopError unless there are 8 finite,
    non-negative numbers and every client holds a sample."""
    try:
        n = np.asarray(counts, dtype=float)
    except (TypeError, ValueError):
        raise AglfopError(f"{where}: not numbers") from None
    if n.size != 8:
        raise AglfopError(f"{where}: expected 8 counts n(client, Z, Y) for 2 clients (order (s*2+z)*2+y), "
                          f"got {n.size}")
    n = n.reshape(K, 2, 2)
    if not np.isfinite(n).all() or (n < 0).any():
        raise AglfopError(f"{where}: counts must be finite and non-negative, got {n.ravel().tolist()}")
    for s in range(K):
        if not n[s].sum() > 0:
            raise AglfopError(f"{where}: client {s} has no samples")
    return n


def _numbers(text, where):
    values = []
    for token in text.replace(",", " ").split():
        try:
            values.append(float(token))
        except ValueError:
            raise AglfopError(f"{where}: '{token}' is not a number") from None
    return values


def parse_counts(text, where="--counts-values"):
    """Eight numbers separated by commas or blanks, n(client, Z, Y) in the order (s*2+z)*2+y (as /fairness/counts
    orders (client, Z, Yhat))."""
    return check_counts(_numbers(text, where), where)


def read_counts(path):
    """The counts from a file: JSON ({"counts": [...]} or a bare list, nested [2][2][2] or flat in (s*2+z)*2+y
    order), CSV with the header client,z,y,count (one row per cell, missing cells are 0), or plain text with eight
    numbers ('#' starts a comment). AglfopError naming the file for anything else."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as error:
        raise AglfopError(f"{path}: cannot be read ({error.strerror or error})") from None
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise AglfopError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
        if isinstance(data, dict):
            if "counts" not in data:
                raise AglfopError(f"{path}: a JSON object needs the key 'counts'")
            data = data["counts"]
        try:
            flat = np.asarray(data, dtype=float).ravel()
        except (TypeError, ValueError):
            raise AglfopError(f"{path}: 'counts' must be a list of numbers (nested [client][z][y] or flat)") from None
        return check_counts(flat, path)
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    first = lines[0].replace(",", " ").split()[0] if lines else ""
    try:
        float(first)
        header = False
    except ValueError:
        header = bool(first)
    if header:
        rows = list(csv.reader(io.StringIO("\n".join(lines))))
        header = [cell.strip().lower() for cell in rows[0]]
        if header != ["client", "z", "y", "count"]:
            raise AglfopError(f"{path}: a CSV needs the header client,z,y,count, got {','.join(rows[0])}")
        n = np.zeros((K, 2, 2))
        seen = set()
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != 4:
                raise AglfopError(f"{path}: CSV row {number} has {len(row)} fields, expected 4")
            try:
                s, z, y = (int(cell) for cell in row[:3])
                count = float(row[3])
            except ValueError:
                raise AglfopError(f"{path}: CSV row {number}: client, z, y must be integers and count a "
                                  f"number, got {','.join(row)}") from None
            if not (0 <= s < K and z in (0, 1) and y in (0, 1)):
                raise AglfopError(f"{path}: CSV row {number}: client in 0..{K - 1}, z and y in 0..1, got "
                                  f"{s},{z},{y}")
            if (s, z, y) in seen:
                raise AglfopError(f"{path}: CSV row {number}: cell client={s}, z={z}, y={y} given twice")
            seen.add((s, z, y))
            n[s, z, y] = count
        return check_counts(n, path)
    return check_counts(_numbers(" ".join(lines), path), path)


def _split_rule(split):
    """(kind, share) of a fair-* split name, as decent's partition = fair-* option spells it."""
    if split == "fair-iid":
        return "iid", 0.0
    if split == "fair-synergy":
        return "synergy", 0.0
    prefix = "fair-heterogeneity:"
    if split.startswith(prefix):
        try:
            percent = float(split[len(prefix):])
        except ValueError:
            percent = math.nan
        if 0 < percent < 100:
            return "heterogeneity", percent / 100
    raise AglfopError(f"split: '{split}' is not one of fair-iid, fair-heterogeneity:P (0 < P < 100), fair-synergy")


SYNERGY_SWAP = 0.01  # decent's fair-synergy (and the paper) moves 1% of the samples to the other client


def synthetic_fair_counts(split, alpha=0.95):
    """The expected fractions n(s, z, y) of the paper's synthetic data (synth3, decent's dataset = synthetic-fair)
    under decent's fair-* split for two clients: P(Y = 1) = 1/2, P(Z = 1 | Y = 1) = alpha = P(Z = 0 | Y = 0);
    fair-iid halves every cell; fair-heterogeneity:P sends Z = 1 to client 0 with probability P/100 and Z = 0
    with probability 1 - P/100; fair-synergy sends the cells Z = Y to client 0 and Z != Y to client 1, then moves
    each sample to the other client with probability 0.01. Sums to 1."""
    if not 0 <= alpha <= 1:
        raise AglfopError(f"alpha: must be in [0, 1], got {alpha}")
    kind, share = _split_rule(split)
    n = np.zeros((K, 2, 2))
    for z in (0, 1):
        for y in (0, 1):
            cell = 0.5 * (alpha if z == y else 1 - alpha)
            if kind == "iid":
                to_0 = 0.5
            elif kind == "heterogeneity":
                to_0 = share if z == 1 else 1 - share
            else:
                to_0 = 1 - SYNERGY_SWAP if z == y else SYNERGY_SWAP
            n[0, z, y] = cell * to_0
            n[1, z, y] = cell * (1 - to_0)
    return n


# decent's seeded streams (lib/include/decent/core/random.hpp), to count the library's own split exactly.
_MASK = (1 << 64) - 1


def _splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _derive_seed(seed, coords):
    h = _splitmix64(seed & _MASK)
    for c in coords:
        h = _splitmix64(h ^ _splitmix64((c + 0x632BE59BD9B4E019) & _MASK))
    return h


class _Stream:
    """decent's Rng: xoshiro256** seeded by splitmix64, its uniform, below (Lemire) and polar normal."""

    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed = _splitmix64(seed)
            self.s.append(seed)
        self.spare = None

    def next(self):
        s0, s1, s2, s3 = self.s
        x = (s1 * 5) & _MASK
        result = ((((x << 7) | (x >> 57)) & _MASK) * 9) & _MASK
        t = (s1 << 17) & _MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & _MASK
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def below(self, n):
        m = self.next() * n
        low = m & _MASK
        if low < n:
            threshold = ((1 << 64) - n) % n
            while low < threshold:
                m = self.next() * n
                low = m & _MASK
        return m >> 64

    def normal(self):
        if self.spare is not None:
            value, self.spare = self.spare, None
            return value
        while True:
            u = 2 * self.uniform() - 1
            v = 2 * self.uniform() - 1
            s = u * u + v * v
            if 0 < s < 1:
                break
        factor = math.sqrt(-2 * math.log(s) / s)
        self.spare = v * factor
        return u * factor


# Stream coordinates of lib/src/data/sensitive.cpp, problem.cpp and fair_partition.cpp.
_TAG_FAIR_SAMPLE, _SPLIT_STREAM, _PART_STREAM, _TAG_TEAM_DRAW = 7, 0x53504C54, 0x50415254, 7


def decent_split_counts(split, samples, alpha=0.95, seed=1):
    """The exact counts n(s, z, y) of decent-train's training shards for dataset = synthetic-fair,
    synthetic-samples = samples, sensitive-correlation = alpha, seed, nodes = 2 and partition = split (positive
    class 1): the library's generator, its 20% test split and its fair-* team draw, replayed with its seeded
    streams. Takes about a second for 10^4 samples. The (client, Z) margins equal those of the run's
    /fairness/counts (which hold Yhat, not Y)."""
    if not (isinstance(samples, int) and samples >= 2):
        raise AglfopError(f"samples: must be an integer >= 2, got {samples}")
    if not 0 <= alpha <= 1:
        raise AglfopError(f"alpha: must be in [0, 1], got {alpha}")
    kind, share = _split_rule(split)
    total = samples + samples // 4
    labels, groups = [], []
    for j in range(total):
        label = j % 2
        rng = _Stream(_derive_seed(seed, (_TAG_FAIR_SAMPLE, j)))
        rng.normal()
        rng.normal()
        p = alpha if label == 1 else 1 - alpha
        labels.append(label)
        groups.append(1 if rng.uniform() < p else 0)
    order = list(range(total))
    rng = _Stream(_derive_seed(seed, (_SPLIT_STREAM,)))
    for i in range(total - 1, 0, -1):
        k = rng.below(i + 1)
        order[i], order[k] = order[k], order[i]
    n_test = int(math.floor(0.2 * total + 0.5))
    train = order[n_test:]
    part_seed = _derive_seed(seed, (_PART_STREAM,))
    n = np.zeros((K, 2, 2))
    if kind == "iid":
        # Each (Z, Y) cell (index 2 Z + Y) dealt round-robin over the two nodes, the deal going on across cells.
        cells = np.zeros(4, dtype=np.int64)
        for j in train:
            cells[2 * groups[j] + labels[j]] += 1
        start = 0
        for cell, size in enumerate(cells):
            z, y = divmod(cell, 2)
            first = (size + 1) // 2  # to node `start`
            n[start, z, y] += first
            n[1 - start, z, y] += size - first
            start = (start + size) % 2
        return n
    for k, j in enumerate(train):
        z, y = groups[j], labels[j]
        u = _Stream(_derive_seed(part_seed, (_TAG_TEAM_DRAW, k))).uniform()
        if kind == "heterogeneity":
            team = 0 if u < (share if z == 1 else 1 - share) else 1
        else:
            team = (0 if z == y else 1) ^ (1 if u < SYNERGY_SWAP else 0)
        n[team, z, y] += 1
    return n


# ------------------------------------------------------------------ the program

def unconstrained_error(counts, yhat_depends_on="szy"):
    """The optimum without fairness bounds, by hand: 0 for "szy" (Yhat = Y); for "sz" the sum over (client,
    group) cells of min(positives, negatives) / N."""
    n = check_counts(counts)
    if yhat_depends_on == "szy":
        return 0.0
    _check_depends(yhat_depends_on)
    return float(np.minimum(n[:, :, 0], n[:, :, 1]).sum() / n.sum())


def _check_depends(yhat_depends_on):
    if yhat_depends_on not in DEPENDS_ON:
        raise AglfopError(f"yhat_depends_on: '{yhat_depends_on}' is not one of {', '.join(DEPENDS_ON)}")


def joint(x):
    """P(S, Z, Yhat) [2, 2, 2] of the variables x [16]: Yhat = 1 is TP + FP, Yhat = 0 is FN + TN."""
    v = np.clip(np.asarray(x, dtype=float), 0, None).reshape(K, 2, 4)
    return np.stack([v[..., FN] + v[..., TN], v[..., TP] + v[..., FP]], axis=-1)


def _xlogx(p):
    p = np.clip(p, 0, None)
    return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def _log_ratio(joint_p, column, row, scale):
    """log(p(z, yhat | c) / p(z | c)) for the partial derivatives of the informations, c a client or nothing:
    joint_p[..., z, yhat] = p(c, z, yhat), column[..., yhat] = p(c, yhat), row[..., z] = p(c, z), scale[...] =
    p(c). Where p(c, yhat) = 0 the information has a kink (it is homogeneous of degree 1 in that column); there the
    ratio is taken along the fair direction, p(z | c, yhat) = p(z | c), which gives a zero derivative, a valid
    subgradient (the plain formula's would stall SLSQP there). A zero p(c, z, yhat) under a positive column gives
    log 0, clipped to log 1e-300: the derivative really is -infinite there (solve() keeps its iterates off such
    points, see INTERIOR). Rows with p(c, z) = 0 (an empty cell, whose variables are fixed at 0) get 0."""
    r = row[..., :, None]
    col = column[..., None, :]
    sc = np.asarray(scale, dtype=float)[..., None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        given = np.where(r > 0, r / np.where(sc > 0, sc, 1.0), 0.0)  # p(z | c)
        ratio = np.where(col > 0, joint_p / np.where(col > 0, col, 1.0), given)
        value = np.log(np.clip(ratio, 1e-300, None)) - np.log(np.where(given > 0, given, 1.0))
    return np.where(r > 0, value, 0.0)


def _global_mi(x):
    """I(Z; Yhat) in bits of the variables and its gradient [16]."""
    P = joint(x)
    pzy = P.sum(axis=0)
    pz, py = pzy.sum(axis=1), pzy.sum(axis=0)
    total = pz.sum()
    value = (_xlogx(pzy).sum() - _xlogx(pz).sum() - _xlogx(py).sum()) / LN2
    # d/dP(z, yhat) = log(p(z, yhat) / (p(z) p(yhat))) - 1 = log(p(z | yhat) / p(z | .)) - log(total) - 1
    d = (_log_ratio(pzy, py, pz, total) - math.log(max(total, 1e-300)) - 1.0) / LN2
    return value, _chain(np.broadcast_to(d, (K, 2, 2)))


def _local_mi(x):
    """I(Z; Yhat | S) in bits of the variables and its gradient [16]."""
    P = joint(x)
    psz, psy, ps = P.sum(axis=2), P.sum(axis=1), P.sum(axis=(1, 2))
    value = (_xlogx(P).sum() - _xlogx(psz).sum() - _xlogx(psy).sum() + _xlogx(ps).sum()) / LN2
    # d/dP(s, z, yhat) = log(p(s, z, yhat) p(s) / (p(s, z) p(s, yhat))) = log(p(z | s, yhat) / p(z | s))
    return value, _chain(_log_ratio(P, psy, psz, ps) / LN2)


def _chain(d):
    """The gradient in x of a function of P(S, Z, Yhat), from d [s, z, yhat] = its partial derivatives."""
    g = np.zeros((K, 2, 4))
    g[..., TP] = g[..., FP] = d[..., 1]
    g[..., FN] = g[..., TN] = d[..., 0]
    return g.ravel()


def _independent_rows(rows, b):
    """Drops rows of [rows | b] that are linear combinations of earlier ones (SLSQP wants full row rank)."""
    kept_rows, kept_b = [], []
    for row, value in zip(rows, b):
        if not np.any(row):
            continue
        trial = np.array(kept_rows + [row])
        if np.linalg.matrix_rank(trial, tol=1e-12) > len(kept_rows):
            kept_rows.append(row)
            kept_b.append(value)
    return np.array(kept_rows), np.array(kept_b)


class Program:
    """The AGLFOP for counts n(s, z, y): variables x [16] = (TP, FN, FP, TN) of cell s * 2 + z over N, the
    objective c @ x = FN + FP, the equalities A @ x = b (and for "sz" the equal-rate rows), and the bounds."""

    def __init__(self, counts, eps_global=math.inf, eps_local=math.inf, yhat_depends_on="szy"):
        self.n = check_counts(counts)
        _check_depends(yhat_depends_on)
        for name, eps in (("eps_global", eps_global), ("eps_local", eps_local)):
            if not isinstance(eps, (int, float)) or math.isnan(eps) or eps < 0:
                raise AglfopError(f"{name}: a bound on a mutual information must be a number >= 0 (bits, or inf), "
                                  f"got {eps}")
        self.eps_global, self.eps_local = float(eps_global), float(eps_local)
        self.yhat_depends_on = yhat_depends_on
        self.N = float(self.n.sum())
        f = self.n / self.N  # f[s, z, y]
        self.fractions = f
        self.objective = np.zeros(16)
        rows, b = [], []
        for s in range(K):
            for z in range(2):
                cell = s * 2 + z
                pos = np.zeros(16)
                pos[[4 * cell + TP, 4 * cell + FN]] = 1
                neg = np.zeros(16)
                neg[[4 * cell + FP, 4 * cell + TN]] = 1
                rows += [pos, neg]
                b += [f[s, z, 1], f[s, z, 0]]
                self.objective[[4 * cell + FN, 4 * cell + FP]] = 1
                if yhat_depends_on == "sz":  # TP / positives = FP / negatives
                    rate = np.zeros(16)
                    rate[4 * cell + TP] = f[s, z, 0]
                    rate[4 * cell + FP] = -f[s, z, 1]
                    rows.append(rate)
                    b.append(0.0)
        # eps = 0 as equal acceptance rates: globally P(Yhat=1 | Z=0) = P(Yhat=1 | Z=1), locally per client.
        p_sz = f.sum(axis=2)
        if self.eps_global == 0:
            row = np.zeros(16)
            for s in range(K):
                for z in range(2):
                    cell = s * 2 + z
                    weight = p_sz[:, 1].sum() if z == 0 else -p_sz[:, 0].sum()
                    row[[4 * cell + TP, 4 * cell + FP]] = weight
            rows.append(row)
            b.append(0.0)
        if self.eps_local == 0:
            for s in range(K):
                row = np.zeros(16)
                row[[4 * (s * 2) + TP, 4 * (s * 2) + FP]] = p_sz[s, 1]
                row[[4 * (s * 2 + 1) + TP, 4 * (s * 2 + 1) + FP]] = -p_sz[s, 0]
                rows.append(row)
                b.append(0.0)
        self.A_all, self.b_all = np.array(rows), np.array(b)
        self.A, self.b = _independent_rows(rows, b)

    def error(self, x):
        return float(self.objective @ x)

    def violation(self, x):
        """The largest violation of any constraint at x (equalities, bounds, both information bounds)."""
        x = np.asarray(x, dtype=float)
        worst = float(np.abs(self.A_all @ x - self.b_all).max())
        worst = max(worst, float(-x.min()), float(x.max() - 1))
        if math.isfinite(self.eps_global):
            worst = max(worst, _global_mi(x)[0] - self.eps_global)
        if math.isfinite(self.eps_local):
            worst = max(worst, _local_mi(x)[0] - self.eps_local)
        return worst

    def start(self, rng=None):
        """A point satisfying the equalities: every cell accepts a random share of its positives and of its
        negatives (the same share for "sz"); without rng, the same share P(Y = 1) everywhere, which makes Yhat
        independent of (S, Z) and is feasible for every eps >= 0."""
        f = self.fractions
        x = np.zeros((K, 2, 4))
        if rng is None:
            u = np.full((K, 2), f[:, :, 1].sum())
            v = u.copy()
        else:
            u = rng.random((K, 2))
            v = u.copy() if self.yhat_depends_on == "sz" else rng.random((K, 2))
        x[..., TP], x[..., FN] = u * f[:, :, 1], (1 - u) * f[:, :, 1]
        x[..., FP], x[..., TN] = v * f[:, :, 0], (1 - v) * f[:, :, 0]
        return x.ravel()

    def bounds(self):
        """[(low, high)] per variable: high = its cell's positives (TP, FN) or negatives (FP, TN) over N, as the
        equalities imply; low = INTERIOR times high."""
        f = self.fractions
        high = np.zeros((K, 2, 4))
        high[..., TP] = high[..., FN] = f[:, :, 1]
        high[..., FP] = high[..., TN] = f[:, :, 0]
        return [(INTERIOR * h, h) for h in high.ravel()]

    def reduced(self):
        """The program SLSQP sees: only the free variables (those of a label a cell holds; a cell without
        positives or negatives fixes two at 0, and SLSQP stalls on fixed variables with their redundant rows).
        Returns (free mask [16], the embedding y -> x, bounds, constraints) over y = x[free]."""
        bounds = np.array(self.bounds())
        free = bounds[:, 1] > 0

        def embed(y):
            x = np.zeros(16)
            x[free] = y
            return x

        A, b = _independent_rows(list(self.A[:, free]), list(self.b))
        out = [{"type": "eq", "fun": lambda y: A @ y - b, "jac": lambda y: A}]
        for eps, information in ((self.eps_global, _global_mi), (self.eps_local, _local_mi)):
            if 0 < eps < math.inf:
                out.append({"type": "ineq", "fun": lambda y, e=eps, f=information: e - f(embed(y))[0],
                            "jac": lambda y, f=information: -f(embed(y))[1][free]})
        return free, embed, [tuple(row) for row in bounds[free]], out


class Solution:
    """The best feasible point found: x [16], error (FN + FP, a fraction of the samples), accuracy = 1 - error,
    P (the optimum's P(S, Z, Yhat) [2, 2, 2]), terms (its informations and BROJA PID, bits; fairness.pid),
    violation (the largest constraint violation), starts (tried) and feasible (how many ended feasible), spread
    (the largest minus the least feasible error over the starts), seconds."""

    def __init__(self, program, x, starts, feasible, spread, seconds):
        self.program = program
        self.x = x
        self.error = program.error(x)
        self.accuracy = 1.0 - self.error
        self.P = joint(x)
        self.terms = pid(self.P)
        self.violation = program.violation(x)
        self.starts, self.feasible, self.spread, self.seconds = starts, feasible, spread, seconds

    def confusion(self):
        """x as [client, z, (TP, FN, FP, TN)] in samples (times N)."""
        return self.x.reshape(K, 2, 4) * self.program.N


def solve(counts, eps_global=math.inf, eps_local=math.inf, yhat_depends_on="szy", starts=6, seed=0):
    """The AGLFOP optimum: SLSQP from the fair start (Yhat independent of (S, Z)) and starts - 1 seeded random
    starts, each restarted from its end point until the error stops falling; keeps the feasible end point (every
    constraint to 1e-9) of least error. AglfopError for bad input or when no start ends feasible."""
    if not (isinstance(starts, int) and starts >= 1):
        raise AglfopError(f"starts: must be an integer >= 1, got {starts}")
    program = Program(counts, eps_global, eps_local, yhat_depends_on)
    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    found = []
    free, embed, bounds, constraints = program.reduced()
    low, high = np.array(bounds).T
    objective = program.objective[free]
    for k in range(starts):
        y = np.clip(program.start(None if k == 0 else rng)[free], low, high)
        previous = math.inf
        # SLSQP's quasi-Newton model of this linear objective can stall and report success far from the optimum;
        # a restart from its end point (a fresh model) goes on. Stop when a restart no longer improves.
        for _ in range(RESTARTS):
            with warnings.catch_warnings():  # SLSQP steps a rounding error outside the bounds; clipped below
                warnings.filterwarnings("ignore", "Values in x were outside bounds", RuntimeWarning)
                result = minimize(lambda y: float(objective @ y), y, jac=lambda y: objective, method="SLSQP",
                                  bounds=bounds, constraints=constraints, options={"ftol": 1e-13, "maxiter": 1000})
            y = np.clip(result.x, low, high)
            error = float(objective @ y)
            if not error < previous - 1e-12:
                break
            previous = error
        x = embed(y)
        if program.violation(x) <= FEASIBILITY_TOL:
            found.append((program.error(x), x))
    if not found:
        raise AglfopError(f"no feasible point found from {starts} starts (eps_global = {eps_global}, eps_local = "
                          f"{eps_local}): the solver failed; try more starts")
    errors = [e for e, _ in found]
    best = min(found, key=lambda item: item[0])[1]
    return Solution(program, best, starts, len(found), max(errors) - min(errors), time.perf_counter() - began)


def data_terms(counts):
    """The informations of the data itself, Yhat = Y: I(Z; Y), I(Z; Y | S), I(Z; S) (bits)."""
    return informations(check_counts(counts))


def default_grid(counts, steps=6, yhat_depends_on="szy"):
    """steps bounds from 0 to the unconstrained optimum's larger disparity (beyond it no bound binds): for "szy"
    max(I(Z; Y), I(Z; Y | S)) of the data, for "sz" the same of the per-cell majority vote."""
    n = check_counts(counts)
    if yhat_depends_on == "sz":
        vote = np.zeros_like(n)
        vote[:, :, 1] = np.where(n[:, :, 1] >= n[:, :, 0], n.sum(axis=2), 0)
        vote[:, :, 0] = n.sum(axis=2) - vote[:, :, 1]
        info = informations(vote)
    else:
        info = informations(n)
    top = max(info["mi_global"], info["mi_local"])
    return [float(v) for v in np.linspace(0, top, steps)] if top > 0 else [0.0]


SWEEP_KEYS = ("eps_global", "eps_local", "error", "accuracy", "mi_global", "mi_local", "mi_client", "unique",
              "redundant", "synergistic", "unique_client", "violation", "feasible_starts", "spread", "seconds")


def sweep(counts, eps_globals, eps_locals, yhat_depends_on="szy", starts=6, seed=0):
    """solve() at every (eps_g, eps_l) of the grid; one dict per point with SWEEP_KEYS, eps_g outer."""
    rows = []
    for eg in eps_globals:
        for el in eps_locals:
            best = solve(counts, eg, el, yhat_depends_on, starts, seed)
            row = {"eps_global": float(eg), "eps_local": float(el), "error": best.error, "accuracy": best.accuracy,
                   "violation": best.violation, "feasible_starts": best.feasible, "spread": best.spread,
                   "seconds": best.seconds}
            row.update({key: best.terms[key] for key in ("mi_global", "mi_local", "mi_client", "unique",
                                                         "redundant", "synergistic", "unique_client")})
            rows.append(row)
    return rows


# ------------------------------------------------------------------ the sweep's outputs

def _grid_of(rows, key):
    egs = sorted({r["eps_global"] for r in rows})
    els = sorted({r["eps_local"] for r in rows})
    M = np.full((len(egs), len(els)), math.nan)
    for r in rows:
        M[egs.index(r["eps_global"]), els.index(r["eps_local"])] = r[key]
    return egs, els, M


def _eps_text(value):
    return "inf" if math.isinf(value) else f"{value:.4g}"


def sweep_figure(rows, outdir, title=""):
    """aglfop.png: accuracy and the optimum's Uni, Red, Syn over the (eps_l, eps_g) grid. Returns (file, caption)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = (("accuracy", "accuracy (1 - FN - FP)", "viridis"), ("unique", "Uni (bits)", "Blues"),
              ("redundant", "Red (bits)", "Oranges"), ("synergistic", "Syn, masked (bits)", "Greens"))
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.4))
    # One colour scale for the three PID maps (bits), so that they compare; solver noise (< 1e-9) shows as 0.
    top = max(max(r[key] for r in rows) for key, _, _ in panels[1:])
    for ax, (key, label, cmap) in zip(axes, panels):
        egs, els, M = _grid_of(rows, key)
        if key == "accuracy":
            limits = {}
        else:
            M = np.where(np.abs(M) < 1e-9, 0.0, M)
            limits = {"vmin": 0.0, "vmax": max(top, 1e-3)}
        image = ax.imshow(M, origin="lower", cmap=cmap, aspect="auto", **limits)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        ax.set_xticks(range(len(els)))
        ax.set_xticklabels([_eps_text(v) for v in els], fontsize=7, rotation=45)
        ax.set_yticks(range(len(egs)))
        ax.set_yticklabels([_eps_text(v) for v in egs], fontsize=7)
        ax.set_xlabel("eps_l: bound on I(Z;Yhat|S) (bits)")
        ax.set_ylabel("eps_g: bound on I(Z;Yhat) (bits)")
        ax.set_title(label, fontsize=10)
        if M.size <= 64:
            finite = M[np.isfinite(M)]
            low, high = (finite.min(), finite.max()) if key == "accuracy" else (0.0, max(top, 1e-3))
            middle = (low + high) / 2 if finite.size else 0
            for i in range(M.shape[0]):
                for j in range(M.shape[1]):
                    ax.text(j, i, f"{M[i, j]:.3f}", ha="center", va="center", fontsize=6.5,
                            color="white" if (key == "accuracy") == (M[i, j] < middle) else "black")
    fig.suptitle(title or "AGLFOP: the optimum over the fairness bounds", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "aglfop.png"), dpi=100)
    plt.close(fig)
    caption = ("AGLFOP optimum over the grid of bounds (eps_l across, eps_g up): the least error's accuracy, and "
               "the unique, redundant and masked disparity of the optimal P(S, Z, Yhat) (BROJA, bits).")
    return "aglfop.png", caption


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(SWEEP_KEYS)
        for r in rows:
            writer.writerow([r[k] if isinstance(r[k], int) else repr(float(r[k])) for k in SWEEP_KEYS])


def checks(rows, counts, yhat_depends_on):
    """Sentences on the paper's statements, as measured on this sweep (each says what it compared)."""
    egs, els, E = _grid_of(rows, "error")
    info = data_terms(counts)
    out = []
    hand = unconstrained_error(counts, yhat_depends_on)
    top_g, top_l = egs[-1], els[-1]
    out.append(f"Loosest bounds (eps_g = {_eps_text(top_g)}, eps_l = {_eps_text(top_l)}): error {E[-1, -1]:.6f}; "
               f"the hand computation without bounds gives {hand:.6f} "
               + ("(Yhat = Y)." if yhat_depends_on == "szy" else "(per cell min(positives, negatives) / N)."))
    # E[looser] - E[tighter] over grid neighbours that differ in one bound: <= 0 if the error never grows.
    increases = [E[i2, j2] - E[i, j] for i in range(len(egs)) for j in range(len(els))
                 for i2, j2 in ((i + 1, j), (i, j + 1)) if i2 < len(egs) and j2 < len(els)]
    out.append(f"Monotonicity: the largest error increase from a grid point to a neighbour with one looser bound is "
               f"{max([0.0] + increases):.2e}.")
    gaps = [abs(E[i, j] - E[-1, j]) for i in range(len(egs)) for j in range(len(els)) if egs[i] >= els[j]]
    out.append(f"I(Z;S) of the data = {info['mi_client']:.3g} bits. Where eps_g >= eps_l the error differs from "
               f"that with the loosest eps_g by at most {max(gaps) if gaps else 0.0:.2e}"
               + (" (with I(Z;S) = 0 local fairness implies global: I(Z;Yhat) = Uni <= I(Z;Yhat|S))."
                  if info["mi_client"] < 1e-12 else "."))
    if 0.0 in egs and 0.0 in els:
        only_global = E[egs.index(0.0), -1]
        only_local = E[-1, els.index(0.0)]
        out.append(f"Exact global fairness alone (eps_g = 0, eps_l = {_eps_text(top_l)}) costs error "
                   f"{only_global:.6f}; exact local fairness alone (eps_l = 0, eps_g = {_eps_text(top_g)}) costs "
                   f"{only_local:.6f}; both {E[egs.index(0.0), els.index(0.0)]:.6f}.")
    return out


def write_sweep(rows, counts, outdir, yhat_depends_on, source, command, seconds, title=None):
    """Writes aglfop.csv, aglfop.png and aglfop.md (the data, the grids of accuracy and Uni/Red/Syn, the
    checks) into outdir; returns the Markdown file's path."""
    write_csv(rows, os.path.join(outdir, "aglfop.csv"))
    figure, caption = sweep_figure(rows, outdir, title)
    n = check_counts(counts)
    info = data_terms(n)
    lines = [f"# {title or 'AGLFOP accuracy-fairness trade-off'}", "",
             f"Counts n(client, Z, Y) from {source}; Yhat may depend on "
             + ("(S, Z, Y) and randomness (the paper's program)." if yhat_depends_on == "szy"
                else "(S, Z) and randomness only (equal acceptance rates of positives and negatives per cell)."),
             "", "| client | Z | Y | count | fraction |", "|---|---|---|---|---|"]
    for s in range(K):
        for z in range(2):
            for y in range(2):
                lines.append(f"| {s} | {z} | {y} | {n[s, z, y]:.6g} | {n[s, z, y] / n.sum():.6f} |")
    lines += ["", f"The data (Yhat = Y): I(Z;Y) = {info['mi_global']:.6f}, I(Z;Y|S) = {info['mi_local']:.6f}, "
              f"I(Z;S) = {info['mi_client']:.3g} bits.", ""]
    for key, label in (("accuracy", "Accuracy 1 - (FN + FP)"), ("unique", "Uni of the optimum (bits)"),
                       ("redundant", "Red of the optimum (bits)"), ("synergistic", "Syn of the optimum (bits)")):
        egs, els, M = _grid_of(rows, key)
        lines += [f"**{label}**, rows eps_g, columns eps_l:", "",
                  "| eps_g \\ eps_l | " + " | ".join(_eps_text(v) for v in els) + " |",
                  "|---|" + "---|" * len(els)]
        lines += [f"| {_eps_text(eg)} | " + " | ".join(f"{v:.4f}" for v in M[i]) + " |" for i, eg in enumerate(egs)]
        lines.append("")
    worst_violation = max(r["violation"] for r in rows)
    worst_spread = max(r["spread"] for r in rows)
    lines += ["Measured:", ""] + [f"- {sentence}" for sentence in checks(rows, n, yhat_depends_on)]
    lines += [f"- Every optimum satisfies every constraint to {max(worst_violation, 0.0):.1e} (largest violation); "
              f"the feasible starts' errors agree to {worst_spread:.1e}.",
              f"- {len(rows)} programs in {seconds:.1f} s.", "",
              f"![{caption}]({figure})", "", f"*{caption}*", "", "Command:", "", "```sh", command, "```"]
    path = os.path.join(outdir, "aglfop.md")
    with open(path, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    return path
