#!/usr/bin/python3
"""Tests of decent_analysis.aglfop (the AGLFOP program for two clients) and `decent_fairness aglfop` / `counts`
(unittest, no pytest).

The optimum is checked against hand computations (no bounds; eps = 0 as equal acceptance rates), against a linear
program solved by scipy's linprog (eps = 0) and against an exhaustive grid of the cells' acceptance rates (eps >
0); its constraints must hold to 1e-6, its error must not grow as a bound grows, and with I(Z; S) = 0 the local
bound must imply the global one. Bad input must give one clear line.
"""
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import numpy as np
from scipy.optimize import linprog

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.dirname(HERE)
TOOL = os.path.join(ANALYSIS, "decent_fairness")
sys.path.insert(0, ANALYSIS)

from decent_analysis import aglfop  # noqa: E402
from decent_analysis.aglfop import (AglfopError, decent_split_counts, parse_counts, read_counts, solve,  # noqa: E402
                                    sweep, synthetic_fair_counts, unconstrained_error)
from decent_analysis.fairness import informations  # noqa: E402

INF = math.inf
# Small, unbalanced counts n[s, z, y] with I(Z; S) > 0 and both groups on both clients.
COUNTS = np.array([[[40, 10], [5, 45]], [[12, 3], [30, 20]]], dtype=float)


def min_abs_rate(cells):
    """min over r in [0, 1] of sum over cells of |r n_c - positives_c| (cells: [(n_c, positives_c)]); the
    function is piecewise linear and convex, so a breakpoint r = positives_c / n_c (or 0, 1) is optimal."""
    candidates = [0.0, 1.0] + [p / n for n, p in cells if n > 0]
    return min(sum(abs(r * n - p) for n, p in cells) for r in candidates)


def lp_error(counts, fair_global, fair_local, depends="szy"):
    """The eps = 0 program as a linear program in (TP, FP) of the four cells (linprog, HiGHS)."""
    f = counts / counts.sum()
    pos, neg = f[:, :, 1].ravel(), f[:, :, 0].ravel()  # cell s * 2 + z
    c = np.r_[-np.ones(4), np.ones(4)]  # error = sum pos - TP + FP
    rows = []

    def acceptance(weights):  # a row on a_c = TP_c + FP_c
        return np.r_[weights, weights]

    psz = f.sum(axis=2)
    if fair_global:
        w = np.zeros(4)
        for s in (0, 1):
            w[s * 2 + 0], w[s * 2 + 1] = psz[:, 1].sum(), -psz[:, 0].sum()
        rows.append(acceptance(w))
    if fair_local:
        for s in (0, 1):
            w = np.zeros(4)
            w[s * 2 + 0], w[s * 2 + 1] = psz[s, 1], -psz[s, 0]
            rows.append(acceptance(w))
    if depends == "sz":
        for cell in range(4):
            row = np.zeros(8)
            row[cell], row[4 + cell] = neg[cell], -pos[cell]
            rows.append(row)
    result = linprog(c, A_eq=np.array(rows) if rows else None, b_eq=np.zeros(len(rows)) if rows else None,
                     bounds=[(0, p) for p in pos] + [(0, q) for q in neg], method="highs")
    assert result.status == 0, result.message
    return result.fun + pos.sum()


def grid_best(counts, eps_g, eps_l, depends, points=15):
    """The least error over a grid of the cells' decisions that meets both bounds: "sz" a grid of the four
    acceptance rates; "szy" a grid of the four acceptance masses a_c in [0, n_c] (the best TP, FP for a given a_c
    have error |a_c - positives_c|)."""
    f = counts / counts.sum()
    n, pos = f.sum(axis=2).ravel(), f[:, :, 1].ravel()
    g = np.linspace(0, 1, points)
    R = np.array(list(itertools.product(g, repeat=4)))  # rates [m, cell]
    a = R * n
    if depends == "sz":
        err = (pos - R * (pos - (n - pos))).sum(axis=1)
    else:
        err = np.abs(a - pos).sum(axis=1)
    P = np.stack([n - a, a], axis=-1).reshape(-1, 2, 2, 2)  # [m, s, z, yhat]

    def h(q):
        q = q.reshape(q.shape[0], -1)
        return -(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1)), 0)).sum(axis=1)

    mi_g = h(P.sum(axis=(1, 3))) + h(P.sum(axis=(1, 2))) - h(P.sum(axis=1))
    mi_l = h(P.sum(axis=3)) + h(P.sum(axis=2)) - h(P) - h(P.sum(axis=(2, 3)))
    ok = (mi_g <= eps_g) & (mi_l <= eps_l)
    return float(err[ok].min())


def tool(*args):
    return subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=120)


class Program(unittest.TestCase):
    def check_constraints(self, best, counts, eps_g, eps_l, depends="szy"):
        confusion = best.confusion()  # [s, z, (TP, FN, FP, TN)] in samples
        np.testing.assert_allclose(confusion[..., 0] + confusion[..., 1], counts[:, :, 1], atol=1e-6 * counts.sum())
        np.testing.assert_allclose(confusion[..., 2] + confusion[..., 3], counts[:, :, 0], atol=1e-6 * counts.sum())
        self.assertGreaterEqual(best.x.min(), -1e-12)
        self.assertLessEqual(best.x.max(), 1 + 1e-12)
        info = informations(best.P)
        self.assertLessEqual(info["mi_global"], eps_g + 1e-6)
        self.assertLessEqual(info["mi_local"], eps_l + 1e-6)
        self.assertLessEqual(best.violation, 1e-6)
        if depends == "sz":
            np.testing.assert_allclose(confusion[..., 0] * counts[:, :, 0], confusion[..., 2] * counts[:, :, 1],
                                       atol=1e-6 * counts.sum() ** 2)
        self.assertAlmostEqual(best.error, (confusion[..., 1] + confusion[..., 2]).sum() / counts.sum(), places=12)

    def test_unconstrained_equals_hand_computation(self):
        for counts in (COUNTS, synthetic_fair_counts("fair-synergy")):
            self.assertAlmostEqual(solve(counts).error, 0.0, delta=1e-9)  # Yhat = Y
            hand = np.minimum(counts[:, :, 0], counts[:, :, 1]).sum() / counts.sum()
            self.assertAlmostEqual(unconstrained_error(counts, "sz"), hand, places=15)
            best = solve(counts, yhat_depends_on="sz")
            self.assertAlmostEqual(best.error, hand, delta=1e-9)
            self.check_constraints(best, counts, INF, INF, "sz")
        # COUNTS by hand: cells (40, 10), (5, 45), (12, 3), (30, 20) -> 10 + 5 + 3 + 20 = 38 of 165
        self.assertAlmostEqual(unconstrained_error(COUNTS, "sz"), 38 / 165, places=15)

    def test_exact_fairness_equals_hand_and_lp(self):
        f = COUNTS / COUNTS.sum()
        pooled = [(f[:, z, :].sum(), f[:, z, 1].sum()) for z in (0, 1)]
        per_client = [[(f[s, z, :].sum(), f[s, z, 1]) for z in (0, 1)] for s in (0, 1)]
        hand = {(0, INF): min_abs_rate(pooled), (INF, 0): sum(min_abs_rate(cells) for cells in per_client)}
        for (eg, el), expected in hand.items():
            best = solve(COUNTS, eg, el)
            self.assertAlmostEqual(best.error, expected, delta=1e-9)
            self.assertAlmostEqual(best.error, lp_error(COUNTS, eg == 0, el == 0), delta=1e-9)
            self.check_constraints(best, COUNTS, eg, el)
        for depends in ("szy", "sz"):
            best = solve(COUNTS, 0, 0, depends)
            self.assertAlmostEqual(best.error, lp_error(COUNTS, True, True, depends), delta=1e-9)
            self.check_constraints(best, COUNTS, 0, 0, depends)
            self.assertLess(best.terms["mi_global"] + best.terms["mi_local"], 1e-9)

    def test_positive_bounds_against_a_grid(self):
        for depends, (eg, el) in itertools.product(("szy", "sz"), ((0.05, INF), (INF, 0.05), (0.08, 0.03))):
            best = solve(COUNTS, eg, el, depends)
            self.check_constraints(best, COUNTS, eg, el, depends)
            grid = grid_best(COUNTS, eg, el, depends)
            self.assertLessEqual(best.error, grid + 1e-9)  # no grid point beats it
            self.assertGreater(best.error, grid - 0.05)  # and the grid comes close (15 points per rate)
            self.assertLess(best.spread, 1e-6)  # convex: every start ends at the same error

    def test_cell_without_positives(self):
        # decent-train's fair-synergy shards (8000 samples, seed 1): client 0 holds no Z = 0 positive, which fixes
        # two variables at 0; SLSQP failed on every start here until those were taken out of its problem.
        counts = np.array([[[3769, 0], [1, 3747]], [[51, 192], [194, 46]]], dtype=float)
        for depends in ("sz", "szy"):
            best = solve(counts, 0, 0.05, depends)
            self.check_constraints(best, counts, 0, 0.05, depends)
            self.assertEqual(best.feasible, best.starts)
            self.assertLess(best.spread, 1e-8)
            self.assertLessEqual(best.error, grid_best(counts, 1e-12, 0.05, depends, points=11) + 1e-9)

    def test_error_non_increasing(self):
        bounds = [0, 0.05, 0.3, INF]
        for counts, depends in ((synthetic_fair_counts("fair-heterogeneity:92"), "szy"), (COUNTS, "sz")):
            rows = sweep(counts, bounds, bounds, depends, starts=3)
            E = np.array([r["error"] for r in rows]).reshape(len(bounds), len(bounds))
            self.assertTrue((np.diff(E, axis=0) <= 1e-9).all(), E)
            self.assertTrue((np.diff(E, axis=1) <= 1e-9).all(), E)
            self.assertLessEqual(max(r["violation"] for r in rows), 1e-6)

    def test_iid_local_bound_implies_global(self):
        counts = synthetic_fair_counts("fair-iid")
        self.assertLess(informations(counts)["mi_client"], 1e-15)
        for el in (0.02, 0.1, 0.4):
            loose = solve(counts, INF, el).error
            for eg in (el, 2 * el):
                self.assertAlmostEqual(solve(counts, eg, el).error, loose, delta=1e-8)

    def test_pid_of_the_optimum(self):
        best = solve(synthetic_fair_counts("fair-synergy"), 0.1, INF)
        t = best.terms
        self.assertAlmostEqual(t["unique"] + t["redundant"], t["mi_global"], delta=1e-12)
        self.assertAlmostEqual(t["unique"] + t["synergistic"], t["mi_local"], delta=1e-12)
        self.assertAlmostEqual(t["mi_global"], 0.1, delta=1e-6)  # the bound binds


class Counts(unittest.TestCase):
    def test_expected_fractions(self):
        for split in ("fair-iid", "fair-heterogeneity:92", "fair-synergy"):
            n = synthetic_fair_counts(split, 0.95)
            self.assertAlmostEqual(n.sum(), 1.0, places=15)
            np.testing.assert_allclose(n.sum(axis=(0, 1)), [0.5, 0.5])  # P(Y = 1) = 1/2
            np.testing.assert_allclose(n.sum(axis=0)[1, 1] / 0.5, 0.95)  # P(Z = 1 | Y = 1) = alpha
        self.assertLess(informations(synthetic_fair_counts("fair-synergy"))["mi_client"], 1e-15)
        het = synthetic_fair_counts("fair-heterogeneity:92")
        self.assertAlmostEqual(het[0, 1].sum() / het[:, 1].sum(), 0.92, places=12)

    def test_library_replay(self):
        n = decent_split_counts("fair-synergy", 2000, 0.95, seed=1)
        self.assertEqual(n.sum(), 2000)  # the training split: 2500 drawn, 500 held out
        self.assertTrue(np.array_equal(n, np.round(n)))
        np.testing.assert_array_equal(n, decent_split_counts("fair-synergy", 2000, 0.95, seed=1))
        self.assertFalse(np.array_equal(n, decent_split_counts("fair-synergy", 2000, 0.95, seed=2)))
        iid = decent_split_counts("fair-iid", 2000, 0.95, seed=1)
        self.assertLessEqual(np.abs(iid[0] - iid[1]).max(), 1)  # round-robin per cell

    def test_files_and_values(self):
        with tempfile.TemporaryDirectory() as tmp:
            flat = COUNTS.ravel().tolist()
            files = {
                "nested.json": json.dumps({"counts": COUNTS.tolist()}),
                "flat.json": json.dumps(flat),
                "cells.csv": "client,z,y,count\n" + "".join(
                    f"{s},{z},{y},{COUNTS[s, z, y]:g}\n" for s in (0, 1) for z in (0, 1) for y in (0, 1)),
                "plain.txt": "# n(s, z, y)\n" + " ".join(f"{v:g}" for v in flat) + "\n",
            }
            for name, text in files.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(text)
                np.testing.assert_array_equal(read_counts(path), COUNTS, name)
            np.testing.assert_array_equal(parse_counts(",".join(f"{v:g}" for v in flat)), COUNTS)
            result = tool("counts", "--counts-values", ",".join(f"{v:g}" for v in flat))
            self.assertEqual(result.returncode, 0, result.stderr)
            path = os.path.join(tmp, "printed.csv")
            with open(path, "w") as f:
                f.write(result.stdout)
            np.testing.assert_array_equal(read_counts(path), COUNTS)  # `counts` prints what read_counts reads


class BadInput(unittest.TestCase):
    def test_bad_programs(self):
        cases = [(dict(eps_global=-0.1), "eps_global: a bound"), (dict(eps_local=math.nan), "eps_local: a bound"),
                 (dict(eps_global="0.1"), "eps_global: a bound"), (dict(yhat_depends_on="x"), "yhat_depends_on"),
                 (dict(starts=0), "starts: must be")]
        for kwargs, message in cases:
            with self.assertRaisesRegex(AglfopError, message):
                solve(COUNTS, **kwargs)
        for counts, message in ((np.ones(7), "expected 8 counts"), (-COUNTS, "non-negative"),
                                (np.full(8, np.nan), "finite"), (np.r_[np.ones(4), np.zeros(4)], "client 1 has no"),
                                (["a"] * 8, "not numbers")):
            with self.assertRaisesRegex(AglfopError, message):
                solve(counts)
        with mock.patch.object(aglfop, "FEASIBILITY_TOL", -1.0):  # a solver that never ends feasible
            with self.assertRaisesRegex(AglfopError, "no feasible point found from 2 starts"):
                solve(COUNTS, 0.1, 0.1, starts=2)
        with self.assertRaisesRegex(AglfopError, "split: 'fair-heterogeneity:100'"):
            synthetic_fair_counts("fair-heterogeneity:100")
        with self.assertRaisesRegex(AglfopError, "alpha"):
            decent_split_counts("fair-iid", 100, 1.5)

    def test_bad_files(self):
        cases = {"bad.json": ("{", "not valid JSON"), "key.json": ('{"n": [1]}', "needs the key 'counts'"),
                 "header.csv": ("client,group,y,count\n0,0,0,1\n", "header client,z,y,count"),
                 "row.csv": ("client,z,y,count\n0,0,x,1\n", "CSV row 2"),
                 "twice.csv": ("client,z,y,count\n0,0,0,1\n0,0,0,2\n", "given twice"),
                 "range.csv": ("client,z,y,count\n2,0,0,1\n", "client in 0..1"),
                 "word.txt": ("1 2 3 four 5 6 7 8\n", "'four' is not a number")}
        with tempfile.TemporaryDirectory() as tmp:
            for name, (text, message) in cases.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(text)
                with self.assertRaisesRegex(AglfopError, message):
                    read_counts(path)
                if name not in ("bad.json", "twice.csv"):  # the command line on two of them (0.4 s each)
                    continue
                result = tool("aglfop", "--counts", path, "-o", os.path.join(tmp, "never"))
                self.assertEqual(result.returncode, 2, name)
                lines = result.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, result.stderr)
                self.assertTrue(lines[0].startswith(f"decent_fairness: {path}: "), lines[0])
            self.assertFalse(os.path.exists(os.path.join(tmp, "never")))

    def test_command_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            result = tool("aglfop", "--split", "fair-synergy", "--eps-global", "0,0.1,inf", "--eps-local", "0,inf",
                          "--starts", "2", "-o", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            with open(os.path.join(out, "aglfop.csv")) as f:
                lines = f.read().splitlines()
            self.assertEqual(lines[0].split(","), list(aglfop.SWEEP_KEYS))
            self.assertEqual(len(lines), 1 + 3 * 2)
            with open(os.path.join(out, "aglfop.png"), "rb") as f:
                self.assertTrue(f.read(8) == b"\x89PNG\r\n\x1a\n")
            with open(os.path.join(out, "aglfop.md")) as f:
                text = f.read()
            self.assertIn("analysis/decent_fairness aglfop --split fair-synergy", text)
            for args, message in ((["--counts-values", "1,2,3"], "expected 8 counts"),
                                  (["--split", "fair-x"], "split: 'fair-x'"),
                                  (["--counts-values", ",".join(["1"] * 8), "--samples", "10"], "--samples: only"),
                                  (["--split", "fair-iid", "--grid", "1"], "--grid: must be >= 2")):
                result = tool("aglfop", *args, "-o", out)
                self.assertEqual(result.returncode, 2, args)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
                self.assertIn(message, result.stderr)
            result = tool("aglfop", "--split", "fair-iid", "--eps-global", "-1", "-o", out)
            self.assertEqual(result.returncode, 2)
            self.assertIn("a bound must be >= 0 bits", result.stderr)


if __name__ == "__main__":
    unittest.main()
