#!/usr/bin/python3
"""Tests of decent_analysis.fairness (the measures of P(S, Z, Yhat) and the /fairness records) and of
`decent_fairness figures` (unittest, no pytest).

The figures are drawn from synthetic run files written here with h5py (tests/synthetic.py's run plus a /fairness
group in the schema of docs/hdf5.md, its terms computed from its counts). The BROJA solver is checked on the
distributions with known decompositions, the identities and a brute-force minimisation. One test runs
$DECENT_TRAIN (skipped when it is missing) to check the figures on a real run and the replay of the library's
synthetic-fair split (decent_analysis.aglfop.decent_split_counts) against the run's /fairness/counts margins.
"""
import math
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np
from scipy.optimize import minimize

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.dirname(HERE)
TOOL = os.path.join(ANALYSIS, "decent_fairness")
sys.path.insert(0, ANALYSIS)
sys.path.insert(0, HERE)

from decent_analysis import fairness  # noqa: E402
from decent_analysis.aglfop import decent_split_counts  # noqa: E402
from decent_analysis.fairness import informations, local_parity, pid, statistical_parity  # noqa: E402
import synthetic  # noqa: E402
from test_report import DECENT_TRAIN, MPIEXEC, PNG_MAGIC, have_decent_train, mpi_env  # noqa: E402

FIGURES = ["fairness_pid.png", "fairness_parity.png", "fairness_final.png"]
H_QUARTER = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))  # h(1/4) = 0.811278... bits


def sources(rule):
    """P[s, z, yhat] with (Yhat, S) uniform and Z = rule(yhat, s)."""
    P = np.zeros((2, 2, 2))
    for yhat in (0, 1):
        for s in (0, 1):
            P[s, rule(yhat, s), yhat] += 0.25
    return P


def brute_force_unique(P, points=201):
    """min of I_Q(Z; Yhat | S) (bits) over the two free entries (t_0, t_1): the best point of a (points x points)
    grid, then Powell's method (derivative-free, bounded) from it. Independent of the solver's root finding."""
    pz = P.sum(axis=(0, 2))
    r = [P[:, z, 1].sum() / pz[z] for z in (0, 1)]
    c = [P[1, z, :].sum() / pz[z] for z in (0, 1)]
    bounds = [(max(0, r[z] + c[z] - 1), min(r[z], c[z])) for z in (0, 1)]

    def unique(t0, t1):
        Q = np.zeros(np.shape(t0) + (2, 2, 2))  # [..., z, yhat, s]
        for z, t in ((0, t0), (1, t1)):
            Q[..., z, 1, 1], Q[..., z, 1, 0] = t, r[z] - t
            Q[..., z, 0, 1], Q[..., z, 0, 0] = c[z] - t, 1 - r[z] - c[z] + t
            Q[..., z, :, :] *= pz[z]
        Q = np.clip(Q, 0, None)
        lead = Q.ndim - 3

        def h(axes):  # entropy in bits of Q with `axes` (of z = 0, yhat = 1, s = 2) summed out
            q = Q.sum(axis=tuple(lead + a for a in axes)) if axes else Q
            q = q.reshape(q.shape[:lead] + (-1,))
            return -(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1)), 0)).sum(axis=-1)

        return h((1,)) + h((0,)) - h(()) - h((0, 1))  # H(Z,S) + H(Yhat,S) - H(Z,Yhat,S) - H(S)

    t0, t1 = np.meshgrid(*(np.linspace(lo, hi, points) for lo, hi in bounds), indexing="ij")
    grid = unique(t0, t1)
    k = np.unravel_index(np.argmin(grid), grid.shape)
    polished = minimize(lambda t: float(unique(t[0], t[1])), [t0[k], t1[k]], method="Powell", bounds=bounds,
                        options={"xtol": 1e-12, "ftol": 1e-15})
    return min(float(grid.min()), float(polished.fun))


def write_fair_run(path, split="fair-iid", rows=6, seed=0, clients=2, finished=True):
    """synthetic.make_run's run (n = clients, an eval every 5 steps) turned into a federated run with a /fairness
    group: random counts per eval and the terms computed from them (fairness.pid for 2 clients). Returns the
    /fairness arrays written."""
    steps = 5 * rows
    synthetic.make_run(path, n=clients, steps=steps, every=5, landscape=False, finished=finished, seed=seed)
    rng = np.random.default_rng(seed)
    E = rows
    counts = rng.integers(1, 400, size=(E, clients, 2, 2)).astype(float)
    terms = {key: np.zeros(E) for key in fairness.TERMS}
    local = np.zeros((E, clients))
    for e in range(E):
        if clients == 2:
            info = pid(counts[e])
        else:  # no BROJA solver for more clients here: any split of the informations that keeps the identities
            info = informations(counts[e])
            info["unique"] = min(info["mi_global"], info["mi_local"])
            info["redundant"] = info["mi_global"] - info["unique"]
            info["synergistic"] = info["mi_local"] - info["unique"]
            info["unique_client"] = max(0.0, info["mi_client"] - info["redundant"])
        info["statistical_parity"] = statistical_parity(counts[e])
        for key in fairness.TERMS:
            terms[key][e] = info[key]
        local[e] = local_parity(counts[e])
    with h5py.File(path, "a") as f:
        config = f.attrs["config"]
        config = config.decode() if isinstance(config, bytes) else config
        f.attrs["config"] = (config.replace("algorithm = dsgd", "algorithm = fedavg")
                             + f"partition = {split}\ndataset = synthetic-fair\n")
        g = f.create_group("fairness")
        g.attrs["positive_class"] = 1.0
        g.attrs["clients"] = float(clients)
        g["step"] = np.asarray(f["eval/step"][()], dtype=np.int64)
        for key in fairness.TERMS:
            g[key] = terms[key]
        g["local_parity"] = local.ravel()
        g["counts"] = counts.ravel()
    return {"terms": terms, "local": local, "counts": counts}


def figures(*args):
    return subprocess.run([TOOL, "figures", *args], capture_output=True, text=True, timeout=120)


def table(text):
    """fairness.md's table as {file name: {column: cell}}."""
    lines = text.split("## Final values", 1)[1].strip().splitlines()
    split = lambda line: [cell.strip() for cell in line.strip().strip("|").replace("\\|", "\x00").split("|")]
    header = [cell.replace("\x00", "|") for cell in split(lines[0])]
    rows = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.replace("\x00", "|") for cell in split(line)]
        rows[cells[1].strip("`")] = dict(zip(header, cells))
    return rows


class Measures(unittest.TestCase):
    def assertTerms(self, terms, **expected):
        for key, value in expected.items():
            self.assertAlmostEqual(terms[key], value, delta=1e-6, msg=key)

    def test_known_decompositions(self):
        # AND: Red = I(Z; Yhat) = h(1/4) - 1/2 = 0.311, Syn = 1/2 (Bertschinger et al. 2014)
        self.assertTerms(pid(sources(lambda y, s: y & s)), unique=0, redundant=H_QUARTER - 0.5, synergistic=0.5,
                         mi_global=H_QUARTER - 0.5, mi_local=0.5)
        self.assertAlmostEqual(H_QUARTER - 0.5, 0.311278, places=6)
        self.assertTerms(pid(sources(lambda y, s: y ^ s)), unique=0, redundant=0, synergistic=1, mi_local=1)
        self.assertTerms(pid(sources(lambda y, s: y)), unique=1, redundant=0, synergistic=0, unique_client=0)
        self.assertTerms(pid(sources(lambda y, s: s)), unique=0, redundant=0, synergistic=0, unique_client=1)
        copy = np.zeros((2, 2, 2))
        copy[0, 0, 0] = copy[1, 1, 1] = 1  # Z = Yhat = S
        self.assertTerms(pid(copy), unique=0, redundant=1, synergistic=0, mi_global=1, mi_client=1)
        independent = np.einsum("s,z,y->szy", [0.3, 0.7], [0.6, 0.4], [0.2, 0.8])
        self.assertTerms(pid(independent), unique=0, redundant=0, synergistic=0, mi_global=0, mi_local=0,
                         mi_client=0)

    def test_identities_and_brute_force(self):
        rng = np.random.default_rng(7)
        for trial in range(12):
            P = rng.random((2, 2, 2)) ** 3 + (trial % 3 == 0) * np.eye(2)[None, :, :]
            terms = pid(P)
            self.assertAlmostEqual(terms["unique"] + terms["redundant"], terms["mi_global"], delta=1e-12)
            self.assertAlmostEqual(terms["unique"] + terms["synergistic"], terms["mi_local"], delta=1e-12)
            self.assertAlmostEqual(terms["unique_client"] + terms["redundant"], terms["mi_client"], delta=1e-12)
            for key in ("unique", "redundant", "synergistic", "unique_client"):
                self.assertGreaterEqual(terms[key], 0)
            brute = brute_force_unique(P / P.sum())
            self.assertLessEqual(terms["unique"], brute + 1e-12)  # no point found otherwise beats the solver
            self.assertAlmostEqual(terms["unique"], brute, delta=1e-7)

    def test_informations_and_parity(self):
        P = np.array([[[30, 10], [20, 40]], [[5, 5], [0, 10]]], dtype=float)  # [s, z, yhat]
        self.assertAlmostEqual(statistical_parity(P), 50 / 70 - 15 / 50, places=12)
        np.testing.assert_allclose(local_parity(P), [40 / 60 - 10 / 40, 10 / 10 - 5 / 10])
        self.assertTrue(math.isnan(local_parity(np.array([[[1, 1], [0, 0]], [[1, 0], [1, 0]]]))[0]))
        # I(Z; S) of a split that puts all Z = 1 on client 1: H(Z)
        info = informations(np.array([[[1, 1], [0, 0]], [[0, 0], [1, 1]]]))
        self.assertAlmostEqual(info["mi_client"], 1.0, places=12)
        self.assertAlmostEqual(info["mi_global"], 0.0, places=12)

    def test_bad_histograms(self):
        for bad in (np.ones((2, 2)), np.ones((2, 3, 2)), -np.ones((2, 2, 2)), np.full((2, 2, 2), np.nan),
                    np.zeros((2, 2, 2))):
            with self.assertRaises(ValueError):
                informations(bad)
        with self.assertRaisesRegex(ValueError, "2 clients"):
            pid(np.ones((3, 2, 2)))


class Figures(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_figures_and_table(self):
        written = {}
        for k, split in enumerate(("fair-iid", "fair-heterogeneity:92", "fair-synergy")):
            name = f"run{k}.h5"
            written[name] = write_fair_run(self.path(name), split, rows=6, seed=k)
        out = self.path("out")
        result = figures(*(self.path(name) for name in written), "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        for png in FIGURES:
            with open(os.path.join(out, png), "rb") as f:
                data = f.read()
            self.assertTrue(data.startswith(PNG_MAGIC), png)
            self.assertGreater(len(data), 5000, png)
        with open(os.path.join(out, "fairness.md")) as f:
            text = f.read()
        rows = table(text)
        self.assertEqual(set(rows), set(written))
        for name, values in written.items():
            row = rows[name]
            with h5py.File(self.path(name), "r") as f:
                acc = f["eval/merged_acc"][-1]
                last = int(f["fairness/step"][-1])
            self.assertEqual(row["run"], "partition=" + {"run0.h5": "fair-iid", "run1.h5": "fair-heterogeneity:92",
                                                          "run2.h5": "fair-synergy"}[name])
            self.assertEqual(row["evals"], "6")
            self.assertEqual(row["last step"], str(last))
            self.assertEqual(row["merged acc"], f"{100 * acc:.2f}%")
            for column, key in (("I(Z;Yhat)", "mi_global"), ("I(Z;Yhat|S)", "mi_local"), ("I(Z;S)", "mi_client"),
                                ("Uni", "unique"), ("Red", "redundant"), ("Syn", "synergistic"),
                                ("Uni(Z:S\\Yhat)", "unique_client")):
                self.assertEqual(row[column], f"{values['terms'][key][-1]:.4f}", column)
            self.assertEqual(row["SP"], f"{values['terms']['statistical_parity'][-1]:+.3f}")
            self.assertEqual(row["SP per client"], ", ".join(f"{v:+.3f}" for v in values["local"][-1]))
            self.assertLess(float(row["identities"]), 1e-12)
            self.assertLess(float(row["Python PID"]), 1e-12)  # the file's terms are this solver's
        for png in FIGURES:
            self.assertIn(f"]({png})", text)

    def test_accuracy_at_fairness_steps(self):
        write_fair_run(self.path("a.h5"), rows=4)
        (run, records), = fairness.load_fairness([self.path("a.h5")])
        with h5py.File(self.path("a.h5"), "r") as f:
            np.testing.assert_array_equal(records.merged_acc, f["eval/merged_acc"][()])
        self.assertEqual(records.local_parity.shape, (4, 2))
        self.assertEqual(records.counts.shape, (4, 2, 2, 2))

    def test_many_clients_and_no_rows(self):
        write_fair_run(self.path("many.h5"), clients=5, rows=3)
        synthetic.make_run(self.path("empty.h5"), n=2, steps=10, every=5, landscape=False)
        with h5py.File(self.path("empty.h5"), "a") as f:
            f.create_group("fairness").attrs["clients"] = 2.0
        out = self.path("out")
        result = figures(self.path("many.h5"), self.path("empty.h5"), "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, "fairness.md")) as f:
            text = f.read()
        rows = table(text)
        self.assertIn(" to ", rows["many.h5"]["SP per client"])  # 5 clients: a range
        self.assertEqual(rows["many.h5"]["Python PID"], "-")
        self.assertEqual(rows["empty.h5"]["evals"], "0")
        self.assertIn("No /fairness row yet in `empty.h5`", text)

    def test_bad_input(self):
        no_fairness = self.path("ring.h5")
        synthetic.make_run(no_fairness, n=2, steps=10, every=5, landscape=False)
        text = self.path("notes.txt")
        with open(text, "w") as f:
            f.write("not a run\n")
        damaged = self.path("damaged.h5")
        write_fair_run(damaged, rows=4)
        with h5py.File(damaged, "a") as f:
            del f["fairness/unique"]
            f["fairness/unique"] = np.zeros(3)
        cases = [(no_fairness, "no /fairness group"), (text, "not an HDF5 file"),
                 (self.path("missing.h5"), "no such file"), (damaged, "/fairness/unique has 3 rows")]
        for path, message in cases:
            result = figures(path, "-o", self.path("never"))
            self.assertEqual(result.returncode, 2, path)
            lines = result.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, result.stderr)
            self.assertTrue(lines[0].startswith(f"decent_fairness: {path}: "), lines[0])
            self.assertIn(message, lines[0])
            self.assertFalse(os.path.exists(self.path("never")))


@unittest.skipUnless(have_decent_train(), f"{DECENT_TRAIN} not built")
class RealRun(unittest.TestCase):
    def test_real_run_and_split_replay(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "het.h5")
            command = [MPIEXEC, "-n", "2", DECENT_TRAIN, "--algorithm", "fedavg", "--dataset", "synthetic-fair",
                       "--synthetic-samples", "2000", "--model", "softmax", "--nodes", "2", "--partition",
                       "fair-heterogeneity:92", "--local-steps", "5", "--steps", "10", "--eval-every", "5",
                       "--progress", "off", "--seed", "3", "--out", path]
            result = subprocess.run(command, capture_output=True, text=True, env=mpi_env(), timeout=120)
            self.assertEqual(result.returncode, 0, result.stderr)
            (run, records), = fairness.load_fairness([path])
            self.assertEqual(records.evals, 2)
            self.assertLess(records.python_pid_difference(), 1e-9)  # this solver against the library's
            replay = decent_split_counts("fair-heterogeneity:92", 2000, 0.95, seed=3)
            for e in range(records.evals):
                np.testing.assert_array_equal(records.counts[e].sum(axis=2), replay.sum(axis=2))
            result = figures(path, "-o", os.path.join(tmp, "out"))
            self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == "__main__":
    unittest.main()
