#!/usr/bin/python3
"""Tests of analysis/decent_report and the decent_analysis package (unittest, no pytest).

    /usr/bin/python3 -m unittest discover -s analysis/tests -v       # from the repository root

Real runs use $DECENT_TRAIN (default /work/main/build/drivers/decent-train) under $MPIEXEC (default
mpiexec); those tests are skipped when the binary is missing. The /landscape tests use synthetic files
written with h5py (tests/synthetic.py), since decent-train may not record /landscape yet.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.dirname(HERE)
REPORT = os.path.join(ANALYSIS, "decent_report")
sys.path.insert(0, ANALYSIS)
sys.path.insert(0, HERE)

from decent_analysis import Run, RunError, label_runs, parse_config  # noqa: E402
from decent_analysis.figures import moving_average, smoothing_window  # noqa: E402
import synthetic  # noqa: E402

DECENT_TRAIN = os.environ.get("DECENT_TRAIN", "/work/main/build/drivers/decent-train")
MPIEXEC = os.environ.get("MPIEXEC", "mpiexec")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BASE_FIGURES = ["train_loss.png", "accuracy.png", "consensus.png", "bytes.png", "schedule.png"]
LANDSCAPE_FIGURES = ["interpolation.png", "landscape.png"]
TINY = ["--dataset", "synthetic", "--synthetic-samples", "2000", "--synthetic-dim", "16",
        "--synthetic-classes", "4", "--nodes", "4", "--steps", "60", "--batch", "16", "--eval-every", "20",
        "--eval-samples", "200", "--progress", "off", "--hidden", "16"]


def mpi_env():
    env = dict(os.environ)
    for key, value in (("OMPI_ALLOW_RUN_AS_ROOT", "1"), ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                       ("OMPI_MCA_btl", "self,vader"), ("OMPI_MCA_rmaps_base_oversubscribe", "1"),
                       ("OPENBLAS_NUM_THREADS", "1")):
        env.setdefault(key, value)
    return env


def have_decent_train():
    return os.access(DECENT_TRAIN, os.X_OK) and shutil.which(MPIEXEC) is not None


def train(path, *options):
    result = subprocess.run([MPIEXEC, "-n", "2", DECENT_TRAIN, *TINY, *options, "--out", path],
                            capture_output=True, text=True, env=mpi_env(), timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"decent-train failed ({result.returncode}): {result.stderr.strip()}")


def report(*args):
    return subprocess.run([REPORT, *args], capture_output=True, text=True, timeout=120)


def read(path):
    with open(path) as text:
        return text.read()


def has_landscape(path):
    with h5py.File(path, "r") as f:
        return "landscape" in f and len(f["landscape/step"]) > 0


def parse_table(text):
    """report.md's "Final numbers" table as {file name: {column: cell}}."""
    lines = text.split("## Final numbers", 1)[1].strip().splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        row = dict(zip(header, cells))
        rows[row["file"].strip("`")] = row
    return rows


def expected_row(path):
    """The table's numbers computed here from the file with h5py, in the report's documented formats."""
    with h5py.File(path, "r") as f:
        merged = f["eval/merged_acc"][-1]
        local = f["eval/local_acc"][-1].mean()
        gap = f["eval/mergeability_gap"][-1] if "mergeability_gap" in f["eval"] else merged - local
        return {
            "merged acc": f"{100 * merged:.2f}%", "local acc": f"{100 * local:.2f}%",
            "gap": f"{100 * gap:+.2f} pp",
            "consensus distance": f"{f['eval/consensus_distance'][-1]:.4g}",
            "sent (GB)": f"{int(f['train/bytes_sent'][:].sum()) / 1e9:.4g}",
            "steps recorded": str(len(f["train/step"])), "nodes": str(f.attrs["n_nodes"]),
            "ranks": str(f.attrs["n_ranks"]), "last eval step": str(f["eval/step"][-1]),
            "wall (s)": f"{f['train/wall_s'][-1]:.2f}",
        }, {"merged": merged, "local": local, "consensus": f["eval/consensus_distance"][-1],
            "gb": int(f["train/bytes_sent"][:].sum()) / 1e9}


class PngMixin:
    def assertPng(self, path):
        self.assertTrue(os.path.isfile(path), f"{path} missing")
        self.assertGreater(os.path.getsize(path), 1000, f"{path} is (nearly) empty")
        with open(path, "rb") as png:
            self.assertEqual(png.read(8), PNG_MAGIC, f"{path} is not a PNG")


@unittest.skipUnless(have_decent_train(), f"decent-train not found at {DECENT_TRAIN} (set DECENT_TRAIN) or "
                                          f"{MPIEXEC} not on PATH (set MPIEXEC)")
class RealRuns(unittest.TestCase, PngMixin):
    """Two real decent-train runs (D-SGD on a ring, server-based SGD) reported together."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="decent-report-test-")
        cls.ring = os.path.join(cls.tmp, "ring.h5")
        cls.server = os.path.join(cls.tmp, "server.h5")
        train(cls.ring, "--algorithm", "dsgd", "--topology", "ring")
        train(cls.server, "--algorithm", "server")
        cls.out = os.path.join(cls.tmp, "report")
        cls.result = report(cls.ring, cls.server, "-o", cls.out, "--title", "ring vs server")
        cls.text = read(os.path.join(cls.out, "report.md")) if cls.result.returncode == 0 else ""

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_exit_code_and_figures(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertEqual(self.result.stderr, "")
        for name in BASE_FIGURES:
            self.assertPng(os.path.join(self.out, name))
            self.assertIn(f"]({name})", self.text)
        # decent-train records /landscape from its landscape-probes version on; older files have none
        probed = has_landscape(self.ring) or has_landscape(self.server)
        for name in LANDSCAPE_FIGURES:
            if probed:
                self.assertPng(os.path.join(self.out, name))
                self.assertIn(f"]({name})", self.text)
            else:
                self.assertFalse(os.path.exists(os.path.join(self.out, name)))
        if not probed:
            self.assertIn("no run has /landscape", self.text)

    def test_numbers_equal_the_files(self):
        rows = parse_table(self.text)
        self.assertEqual(sorted(rows), ["ring.h5", "server.h5"])
        for path in (self.ring, self.server):
            row = rows[os.path.basename(path)]
            expected, values = expected_row(path)
            for column, cell in expected.items():
                self.assertEqual(row[column], cell, f"{path}: {column}")
            self.assertEqual(row["finished"], "yes")
            # and the formatted numbers are the files' values to their last printed digit
            self.assertAlmostEqual(float(row["merged acc"].rstrip("%")), 100 * values["merged"], delta=0.005)
            self.assertAlmostEqual(float(row["local acc"].rstrip("%")), 100 * values["local"], delta=0.005)
            self.assertAlmostEqual(float(row["consensus distance"]), values["consensus"],
                                   delta=5e-4 * abs(values["consensus"]) + 1e-300)
            self.assertAlmostEqual(float(row["sent (GB)"]), values["gb"], delta=5e-4 * values["gb"])
        self.assertEqual(rows["server.h5"]["consensus distance"], "0")

    def test_header_labels_and_definitions(self):
        self.assertTrue(self.text.startswith("# ring vs server\n"))
        rows = parse_table(self.text)
        self.assertEqual(rows["ring.h5"]["run"], "algorithm=dsgd")
        self.assertEqual(rows["server.h5"]["run"], "algorithm=server")
        self.assertIn('**final** = the last eval row', self.text)
        self.assertIn("server.h5: 0 at every eval", self.text)  # the consensus caption explains the gap
        self.assertNotIn("UNFINISHED", self.text)

    def test_single_run_label(self):
        out = os.path.join(self.tmp, "single")
        result = report(self.ring, "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(parse_table(read(os.path.join(out, "report.md")))["ring.h5"]["run"],
                         "algorithm=dsgd, topology=ring")

    def test_unfinished_copy(self):
        path = os.path.join(self.tmp, "stopped.h5")
        shutil.copy(self.ring, path)
        with h5py.File(path, "a") as f:  # as if killed after the second flush: 40 steps, 2 evals
            f.attrs["finished"] = 0
            del f.attrs["finished_utc"]
            for key in f["train"]:
                f["train"][key].resize(40, axis=0)
            for key in f["eval"]:
                f["eval"][key].resize(2, axis=0)
        out = os.path.join(self.tmp, "stopped")
        result = report(path, self.ring, "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        text = read(os.path.join(out, "report.md"))
        self.assertIn("UNFINISHED RUN: `stopped.h5`", text)
        row = parse_table(text)["stopped.h5"]
        self.assertEqual(row["finished"], "**NO**")
        self.assertEqual(row["steps recorded"], "40 of 60")
        expected, _ = expected_row(path)
        for column in ("merged acc", "local acc", "gap", "consensus distance", "sent (GB)", "last eval step"):
            self.assertEqual(row[column], expected[column], column)
        for name in BASE_FIGURES:
            self.assertPng(os.path.join(out, name))


class SyntheticRuns(unittest.TestCase, PngMixin):
    """Files written with h5py: /landscape, unfinished runs, runs without eval."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="decent-report-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_landscape_figures(self):
        synthetic.make_run(self.path("a.h5"), n=6, steps=100, seed=1)
        synthetic.make_run(self.path("b.h5"), n=6, steps=100, every=25, seed=2)
        out = self.path("out")
        result = report(self.path("a.h5"), self.path("b.h5"), "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        for name in BASE_FIGURES + LANDSCAPE_FIGURES:
            self.assertPng(os.path.join(out, name))
        text = read(os.path.join(out, "report.md"))
        self.assertIn("](interpolation.png)", text)
        self.assertIn("](landscape.png)", text)
        rows = parse_table(text)
        self.assertEqual(rows["a.h5"]["run"], "eval-every=20")
        self.assertEqual(rows["b.h5"]["run"], "eval-every=25")
        for name in ("a.h5", "b.h5"):
            expected, _ = expected_row(self.path(name))  # uses /eval/mergeability_gap, which they have
            for column, cell in expected.items():
                self.assertEqual(rows[name][column], cell, f"{name}: {column}")

    def test_interpolation_without_plane(self):
        synthetic.make_run(self.path("a.h5"), plane=False)
        out = self.path("out")
        result = report(self.path("a.h5"), "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertPng(os.path.join(out, "interpolation.png"))
        self.assertFalse(os.path.exists(os.path.join(out, "landscape.png")))
        self.assertIn("no run has a /landscape loss plane", read(os.path.join(out, "report.md")))

    def test_landscape_loaded(self):
        synthetic.make_run(self.path("a.h5"), n=5, steps=60, every=20)
        run = Run(self.path("a.h5"))
        ls = run.landscape
        self.assertEqual(ls.plane, "pca")
        self.assertEqual(ls.interp_loss.shape, (3, 3, 11))
        self.assertEqual(ls.plane_loss.shape, (3, 21, 21))
        self.assertEqual(ls.plane_nodes.shape, (3, 5, 2))
        self.assertTrue(ls.has_interpolation and ls.has_plane)
        self.assertTrue(run.gap_from_file)

    def test_without_landscape_or_gap(self):
        synthetic.make_run(self.path("a.h5"), landscape=False, mergeability_gap=False)
        run = Run(self.path("a.h5"))
        self.assertIsNone(run.landscape)
        self.assertFalse(run.gap_from_file)
        np.testing.assert_allclose(run.mergeability_gap, run.merged_acc - run.local_acc.mean(axis=1))

    def test_unfinished_and_no_eval(self):
        synthetic.make_run(self.path("stopped.h5"), finished=False, evals=False, landscape=False)
        out = self.path("out")
        result = report(self.path("stopped.h5"), "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        text = read(os.path.join(out, "report.md"))
        self.assertIn("UNFINISHED RUN: `stopped.h5`", text)
        self.assertIn("No eval yet in `stopped.h5`", text)
        row = parse_table(text)["stopped.h5"]
        self.assertEqual(row["finished"], "**NO**")
        self.assertEqual(row["merged acc"], "no eval yet")
        for name in ("train_loss.png", "bytes.png", "schedule.png"):
            self.assertPng(os.path.join(out, name))
        for name in ("accuracy.png", "consensus.png"):
            self.assertFalse(os.path.exists(os.path.join(out, name)))
        self.assertIn("Not drawn: accuracy.png: no run has an eval yet.", text)


class BadInput(unittest.TestCase):
    """Exit code 2, one line on stderr naming the file, never a traceback."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="decent-report-test-")
        self.out = os.path.join(self.tmp, "out")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assertRefused(self, path, words):
        result = report(path, "-o", self.out)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn(path, lines[0])
        self.assertIn(words, lines[0])
        self.assertFalse(os.path.exists(os.path.join(self.out, "report.md")))

    def test_missing_file(self):
        self.assertRefused(os.path.join(self.tmp, "nothing.h5"), "no such file")

    def test_text_file(self):
        path = os.path.join(self.tmp, "notes.h5")
        with open(path, "w") as text:
            text.write("not a run\n")
        self.assertRefused(path, "not an HDF5 file")

    def test_hdf5_without_decent_attributes(self):
        path = os.path.join(self.tmp, "other.h5")
        with h5py.File(path, "w") as f:
            f["train/step"] = np.arange(3)
        self.assertRefused(path, "decent_version")

    def test_hdf5_without_train(self):
        path = os.path.join(self.tmp, "empty.h5")
        with h5py.File(path, "w") as f:
            f.attrs["decent_version"] = "0.1.0"
        self.assertRefused(path, "/train")

    def test_truncated_file(self):
        good, bad = os.path.join(self.tmp, "good.h5"), os.path.join(self.tmp, "cut.h5")
        synthetic.make_run(good)
        with open(good, "rb") as src, open(bad, "wb") as dst:
            dst.write(src.read(4000))
        self.assertRefused(bad, "damaged")

    def test_bad_file_among_good_ones(self):
        good = os.path.join(self.tmp, "good.h5")
        synthetic.make_run(good)
        missing = os.path.join(self.tmp, "gone.h5")
        result = report(good, missing, "-o", self.out)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr.strip().splitlines(), [f"decent_report: {missing}: no such file"])


class Library(unittest.TestCase):
    def test_parse_config(self):
        config = parse_config("# comment\nnodes = 16\ntopology = random:0.2  # inline\n\nhidden=256,128\n")
        self.assertEqual(config, {"nodes": "16", "topology": "random:0.2", "hidden": "256,128"})

    def test_moving_average(self):
        values = np.arange(10, dtype=float).reshape(5, 2)
        np.testing.assert_allclose(moving_average(values, 1), values)
        np.testing.assert_allclose(moving_average(values, 2)[:, 0], [0, 1, 3, 5, 7])
        self.assertEqual(smoothing_window(1500), 30)
        self.assertEqual(smoothing_window(10), 1)

    def test_labels(self):
        class Fake:
            def __init__(self, name, **config):
                self.name, self.config, self.topology = name, {"out": name, **config}, {}
                self.default_label = lambda: "single"

        server = Fake("s.h5", algorithm="server", topology="ring", r="1", **{"budget-point": "0.5"})
        dense = Fake("d.h5", algorithm="dsgd", topology="random", r="0.2", **{"budget-profile": "dense-window",
                                                                              "budget-point": "0.7"})
        runs = [server, dense]
        label_runs(runs)
        self.assertEqual(server.label, "algorithm=server")
        self.assertEqual(dense.label, "algorithm=dsgd, topology=random, r=0.2, budget-profile=dense-window, "
                                      "budget-point=0.7")
        twins = [Fake("a.h5", seed="1"), Fake("b.h5", seed="1")]
        label_runs(twins)
        self.assertEqual([run.label for run in twins], ["a.h5", "b.h5"])

    def test_run_error_is_one_line(self):
        with self.assertRaises(RunError) as caught:
            Run("/nonexistent/run.h5")
        self.assertEqual(str(caught.exception), "/nonexistent/run.h5: no such file")


if __name__ == "__main__":
    unittest.main()
