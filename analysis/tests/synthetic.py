"""Synthetic decent run files written with h5py, following docs/hdf5.md (and the /landscape group)."""
import h5py
import numpy as np

CONFIG = """nodes = {n}
steps = {steps}
seed = 1
out = {out}
eval-every = {every}
dataset = synthetic
model = mlp
algorithm = dsgd
topology = ring
gossip-every = 1
rounds = 1
final-merge = true
lr = 0.05
batch = 16
"""


def make_run(path, n=4, steps=100, every=20, finished=True, landscape=True, plane=True, evals=True,
             mergeability_gap=True, seed=0):
    """A small, self-consistent run file; returns a dict of the values a report should show."""
    rng = np.random.default_rng(seed)
    eval_steps = np.arange(every - 1, steps, every, dtype=np.int64) if evals else np.zeros(0, np.int64)
    E = len(eval_steps)
    with h5py.File(path, "w") as f:
        f.attrs["decent_version"] = "0.1.0"
        f.attrs["git_commit"] = "synthetic"
        f.attrs["config"] = CONFIG.format(n=n, steps=steps, out=path, every=every)
        f.attrs["command_line"] = "synthetic"
        f.attrs["n_nodes"] = n
        f.attrs["n_ranks"] = 2
        f.attrs["seed"] = 1
        f.attrs["started_utc"] = "2026-11-28T19:20:05Z"
        f.attrs["finished"] = 1 if finished else 0
        if finished:
            f.attrs["finished_utc"] = "2026-11-28T19:21:05Z"
        t = np.arange(steps, dtype=np.int64)
        f["train/step"] = t
        f["train/lr"] = np.full(steps, 0.05)
        f["train/loss"] = (2.0 * np.exp(-t / 30.0)[:, None] + 0.1 + 0.05 * rng.random((steps, n))).astype(np.float32)
        f["train/bytes_sent"] = np.full(steps, 10880, dtype=np.uint64)
        f["train/wall_s"] = 0.01 * (t + 1.0)
        merged_acc = np.linspace(0.5, 0.9, E)
        local_acc = merged_acc[:, None] - 0.05 * rng.random((E, n))
        f["eval/step"] = eval_steps
        f["eval/merged_loss"] = np.linspace(1.0, 0.3, E)
        f["eval/merged_acc"] = merged_acc
        f["eval/local_loss"] = np.linspace(1.2, 0.4, E)[:, None] + 0.1 * rng.random((E, n))
        f["eval/local_acc"] = local_acc
        f["eval/consensus_distance"] = np.geomspace(0.5, 0.01, E)
        f["eval/distance_to_mean"] = np.geomspace(0.5, 0.01, E)[:, None] * np.ones((E, n))
        if mergeability_gap:
            f["eval/mergeability_gap"] = merged_acc - local_acc.mean(axis=1)
        f["schedule/comm_step"] = t
        f["schedule/comm_rounds"] = np.r_[np.ones(steps - 1), 0].astype(np.int32)
        f["schedule/merge_step"] = np.array([steps - 1], dtype=np.int64)
        f["schedule"].attrs["description"] = "synthetic: 1 gossip round every step; final merge"
        f["topology/edges"] = np.array([[i, j] for i in range(n) for j in (i - 1, i, i + 1)], np.int64) % n
        f["topology/weights"] = np.full(3 * n, 1 / 3)
        f["topology"].attrs["spec"] = "ring"
        f["topology"].attrs["spectral_gap"] = 0.5
        f["final/merged_params"] = np.zeros(10, np.float32)
        if landscape:
            write_landscape(f, n, eval_steps if E else np.array([steps - 1]), rng, plane)
    return {"eval_steps": eval_steps}


def write_landscape(f, n, probe_steps, rng, plane=True):
    L, P, A, G = len(probe_steps), min(3, n), 11, 21
    alpha = np.linspace(0, 1, A)
    g = f.create_group("landscape")
    g["step"] = probe_steps.astype(np.int64)
    g["alpha"] = alpha
    g["interp_nodes"] = np.arange(P, dtype=np.int64)
    ends = 0.3 + 0.5 * rng.random((L, P, 1))
    bump = (0.5 / (np.arange(L) + 1))[:, None, None] * np.sin(np.pi * alpha)[None, None, :]
    interp = ends + (0.3 - ends) * alpha + bump
    g["interp_loss"] = interp
    g["interp_acc"] = 0.9 - 0.3 * bump
    chord = interp[:, :, :1] * (1 - alpha) + interp[:, :, -1:] * alpha
    g["barrier"] = (interp - chord).max(axis=2)
    if plane:
        axis = np.linspace(-1.25, 1.25, G)
        u, v = np.meshgrid(axis, axis, indexing="ij")  # [gu, gv]
        g["plane_axis"] = axis
        g["plane_scale"] = np.tile([2.0, 1.5], (L, 1))
        g["plane_loss"] = np.stack([0.3 + (l + 1) * (u ** 2 + 0.5 * v ** 2) + 0.1 * np.sin(3 * u) for l in range(L)])
        g["plane_acc"] = 0.9 - 0.1 * np.asarray(g["plane_loss"])
        g["plane_nodes"] = rng.uniform(-1, 1, (L, n, 2))
        g.attrs["plane"] = "pca"
