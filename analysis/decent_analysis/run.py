"""One decent-train run file (docs/hdf5.md) loaded into numpy arrays.

Only the documented schema is read: the root attributes, /train, /eval, /schedule, /topology and the
optional /landscape group and /eval/mergeability_gap. Problems with the input raise RunError, whose
message is one line naming the file and what is wrong.
"""
import os

import h5py
import numpy as np

# Keys that differ between runs without describing the experiment; left out of the legend labels.
LABEL_IGNORED_KEYS = ("out", "progress")
LABEL_MAX_KEYS = 7
# Keys without a default (docs/config.md: "-"), absent from `config` when not set.
OPTIONAL_KEYS = ("weights", "r-end", "budget-profile", "train-file", "test-file", "lr-milestones")
# Keys that describe how nodes communicate (meaningless for algorithm = server), and the documented
# defaults (docs/config.md) of those a label leaves out when another key already tells the runs apart.
COMMUNICATION_KEYS = ("topology", "weights", "gossip-every", "rounds", "r", "r-end", "budget-profile",
                      "budget-target", "budget-point", "budget-window", "budget-paper-last-round",
                      "final-merge", "merge-every", "post-merge-rounds")
DEFAULTS = {"gossip-every": "1", "rounds": "1", "merge-every": "0", "final-merge": "true",
            "post-merge-rounds": "0", "budget-target": "budget", "budget-paper-last-round": "false"}


class RunError(Exception):
    """A file that cannot be read as a decent run; str() is one line naming the file."""


def parse_config(text):
    """The `config` attribute (INI text, `key = value`, `#` starts a comment) as an ordered dict."""
    config = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("[") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        config[key.strip()] = value.strip()
    return config


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def _scalar(value):
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else 0
    return value.item() if hasattr(value, "item") else value


class Landscape:
    """The /landscape group: interpolation probes and, when recorded, a 2-D loss plane."""

    def __init__(self, group, name):
        def get(key, dtype=float):
            return np.asarray(group[key][()], dtype=dtype) if key in group else None

        self.step = get("step", np.int64)
        self.alpha = get("alpha")
        self.interp_nodes = get("interp_nodes", np.int64)
        self.interp_loss = get("interp_loss")
        self.interp_acc = get("interp_acc")
        self.barrier = get("barrier")
        self.plane_axis = get("plane_axis")
        self.plane_scale = get("plane_scale")
        self.plane_loss = get("plane_loss")
        self.plane_acc = get("plane_acc")
        self.plane_nodes = get("plane_nodes")
        self.plane = _text(group.attrs["plane"]) if "plane" in group.attrs else ""
        if self.step is None:
            raise RunError(f"{name}: /landscape has no step dataset")
        L = len(self.step)
        for key in ("interp_loss", "interp_acc", "barrier", "plane_scale", "plane_loss", "plane_acc",
                    "plane_nodes"):
            value = getattr(self, key)
            if value is not None and value.ndim >= 1 and value.shape[0] != L:
                raise RunError(f"{name}: /landscape/{key} has {value.shape[0]} rows but /landscape/step "
                               f"has {L} (damaged file?)")
        if self.has_interpolation and (self.interp_nodes is None
                                       or len(self.interp_nodes) != self.interp_loss.shape[1]):
            self.interp_nodes = np.arange(self.interp_loss.shape[1])

    @property
    def has_interpolation(self):
        return (self.interp_loss is not None and self.alpha is not None and self.interp_loss.ndim == 3
                and self.interp_loss.size > 0 and self.interp_loss.shape[2] == len(self.alpha))

    @property
    def has_plane(self):
        G = len(self.plane_axis) if self.plane_axis is not None else -1
        return (self.plane_loss is not None and self.plane_loss.ndim == 3 and self.plane_loss.size > 0
                and self.plane_loss.shape[1:] == (G, G)
                and (self.plane_nodes is None or (self.plane_nodes.ndim == 3 and self.plane_nodes.shape[2] == 2))
                and (self.plane_scale is None or self.plane_scale.shape[1:] == (2,)))


class Run:
    """One run file. Arrays keep the file's dtypes' values; `label` is set by label_runs()."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        if not os.path.exists(path):
            raise RunError(f"{path}: no such file")
        if os.path.isdir(path):
            raise RunError(f"{path}: is a directory, not a run file")
        try:
            is_hdf5 = h5py.is_hdf5(path)
        except OSError as error:
            raise RunError(f"{path}: cannot be read ({error})") from None
        if not is_hdf5:
            raise RunError(f"{path}: not an HDF5 file (expected a decent-train run file, docs/hdf5.md)")
        try:
            f = h5py.File(path, "r")
        except OSError as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise RunError(f"{path}: damaged HDF5 file, cannot be opened ({message})") from None
        try:
            with f:
                self._load(f)
        except RunError:
            raise
        except (OSError, KeyError, ValueError, TypeError, IndexError) as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise RunError(f"{path}: damaged or unexpected decent run file ({message})") from None

    # ---------------------------------------------------------------- loading
    def _load(self, f):
        attrs = f.attrs
        if "decent_version" not in attrs:
            raise RunError(f"{self.path}: HDF5 file but not a decent run: the root attribute "
                           f"'decent_version' is missing")
        if "train" not in f or not isinstance(f["train"], h5py.Group):
            raise RunError(f"{self.path}: HDF5 file but not a decent run: the group /train is missing")
        self.version = _text(attrs["decent_version"])
        self.git_commit = _text(attrs.get("git_commit", ""))
        self.config_text = _text(attrs.get("config", ""))
        self.config = parse_config(self.config_text)
        self.command_line = _text(attrs.get("command_line", ""))
        self.started_utc = _text(attrs.get("started_utc", ""))
        self.finished_utc = _text(attrs["finished_utc"]) if "finished_utc" in attrs else ""
        self.finished = bool(_scalar(attrs.get("finished", 0)))
        self.n_ranks = int(_scalar(attrs.get("n_ranks", 0)))

        train = f["train"]
        self.step = self._dataset(train, "/train", "step", np.int64)
        self.lr = self._dataset(train, "/train", "lr", float, required=False)
        self.loss = self._dataset(train, "/train", "loss", np.float64, ndim=2)
        self.bytes_sent = self._dataset(train, "/train", "bytes_sent", np.uint64)
        self.wall_s = self._dataset(train, "/train", "wall_s", float)
        n_attr = int(_scalar(attrs.get("n_nodes", self.loss.shape[1])))
        self.n_nodes = n_attr
        self._same_rows("/train", ["step", "loss", "bytes_sent", "wall_s"])

        n = self.n_nodes
        if "eval" in f:
            ev = f["eval"]
            self.eval_step = self._dataset(ev, "/eval", "step", np.int64)
            self.merged_loss = self._dataset(ev, "/eval", "merged_loss", float)
            self.merged_acc = self._dataset(ev, "/eval", "merged_acc", float)
            self.local_loss = self._dataset(ev, "/eval", "local_loss", float, ndim=2)
            self.local_acc = self._dataset(ev, "/eval", "local_acc", float, ndim=2)
            self.consensus_distance = self._dataset(ev, "/eval", "consensus_distance", float)
            gap = self._dataset(ev, "/eval", "mergeability_gap", float, required=False)
            self._same_rows("/eval", ["eval_step", "merged_loss", "merged_acc", "local_loss", "local_acc",
                                      "consensus_distance"])
        else:
            self.eval_step = np.zeros(0, np.int64)
            self.merged_loss = self.merged_acc = self.consensus_distance = np.zeros(0)
            self.local_loss = self.local_acc = np.zeros((0, n))
            gap = None
        with np.errstate(invalid="ignore"):
            self.local_acc_mean = (self.local_acc.mean(axis=1) if len(self.eval_step) else np.zeros(0))
            self.local_loss_mean = (self.local_loss.mean(axis=1) if len(self.eval_step) else np.zeros(0))
        # /eval/mergeability_gap when the file has it (same rows as /eval), else merged - mean(local).
        self.gap_from_file = gap is not None and len(gap) == len(self.eval_step)
        self.mergeability_gap = gap if self.gap_from_file else self.merged_acc - self.local_acc_mean

        if "schedule" in f:
            sch = f["schedule"]
            self.comm_step = self._dataset(sch, "/schedule", "comm_step", np.int64, required=False)
            self.comm_rounds = self._dataset(sch, "/schedule", "comm_rounds", np.int64, required=False)
            self.merge_step = self._dataset(sch, "/schedule", "merge_step", np.int64, required=False)
            self.schedule_description = _text(sch.attrs.get("description", ""))
        else:
            self.comm_step = self.comm_rounds = self.merge_step = None
            self.schedule_description = ""
        self.comm_step = np.zeros(0, np.int64) if self.comm_step is None else self.comm_step
        self.merge_step = np.zeros(0, np.int64) if self.merge_step is None else self.merge_step
        if self.comm_rounds is None or len(self.comm_rounds) != len(self.comm_step):
            self.comm_rounds = np.ones(len(self.comm_step), np.int64)

        self.topology = {}
        if "topology" in f:
            self.topology = {key: _scalar(value) if not isinstance(value, (bytes, str)) else _text(value)
                             for key, value in f["topology"].attrs.items()}

        self.landscape = None
        if "landscape" in f and isinstance(f["landscape"], h5py.Group):
            landscape = Landscape(f["landscape"], self.path)
            if landscape.has_interpolation or landscape.has_plane:
                self.landscape = landscape
        self.label = self.default_label()

    def _dataset(self, group, where, key, dtype, ndim=1, required=True):
        if key not in group:
            if required:
                raise RunError(f"{self.path}: not a complete decent run: {where}/{key} is missing")
            return None
        value = np.asarray(group[key][()], dtype=dtype)
        if value.ndim != ndim:
            raise RunError(f"{self.path}: {where}/{key} has {value.ndim} dimensions, expected {ndim}")
        return value

    def _same_rows(self, where, keys):
        rows = {key: len(getattr(self, key)) for key in keys}
        if len(set(rows.values())) > 1:
            listed = ", ".join(f"{key.replace('eval_', '')} {count}" for key, count in rows.items())
            raise RunError(f"{self.path}: {where} datasets disagree in length ({listed}); damaged file?")

    # ---------------------------------------------------------------- derived values
    def default_label(self):
        algorithm = self.config.get("algorithm", "?")
        if algorithm == "server":
            return "algorithm=server"
        return f"algorithm={algorithm}, topology={self.config.get('topology', self.topology.get('spec', '?'))}"

    @property
    def steps_recorded(self):
        return len(self.step)

    @property
    def steps_planned(self):
        try:
            return int(self.config["steps"])
        except (KeyError, ValueError):
            return None

    @property
    def has_eval(self):
        return len(self.eval_step) > 0

    @property
    def total_bytes(self):
        return int(self.bytes_sent.sum(dtype=np.uint64))

    @property
    def wall_time(self):
        return float(self.wall_s[-1]) if len(self.wall_s) else None

    @property
    def is_server(self):
        return self.config.get("algorithm") == "server"

    def final(self, key):
        """The last eval row's value of merged_acc, local_acc_mean, mergeability_gap,
        consensus_distance, merged_loss, local_loss_mean, eval_step; None without an eval."""
        values = getattr(self, key)
        return values[-1].item() if len(values) else None


def _relevant(key, config):
    """Whether a config key matters to this run (so that labels skip, e.g., a server run's topology)."""
    algorithm = config.get("algorithm")
    profile = config.get("budget-profile", "")
    if algorithm == "server" and key in COMMUNICATION_KEYS:
        return False
    if key in ("r-end", "budget-target", "budget-paper-last-round") and profile in ("", "fixed"):
        return False
    if key == "budget-point" and profile not in ("late-switch", "dense-window"):
        return False
    if key == "budget-window" and profile != "dense-window":
        return False
    if key == "r" and not (config.get("topology", "").startswith("random") or profile):
        return False
    return key in config


def label_runs(runs):
    """Legend labels. One run: "algorithm=..., topology=...". Several runs: the config keys whose values
    differ between them, keeping for each run only the keys that matter to it (not a server run's
    topology, not a budget-point without a budget profile) and leaving out communication knobs at their
    documented defaults; `out` and `progress` never count. At most LABEL_MAX_KEYS keys are shown."""
    if len(runs) == 1:
        runs[0].label = runs[0].default_label()
        return
    keys = []
    for run in sorted(runs, key=lambda run: -len(run.config)):  # the fullest config's key order first
        keys += [key for key in run.config if key not in keys]
    differing = [key for key in keys if key not in LABEL_IGNORED_KEYS
                 and len({run.config.get(key, "-") for run in runs}) > 1]
    # decent-train leaves unset optional keys out of `config`; any other key missing from a file means
    # a file of another version (or written by hand), so it tells runs apart only when nothing else does.
    comparable = [key for key in differing
                  if key in OPTIONAL_KEYS or all(key in run.config for run in runs)]
    differing = comparable or differing
    for run in runs:
        relevant = [key for key in differing if _relevant(key, run.config)]
        shown = [key for key in relevant if DEFAULTS.get(key) != run.config[key]] or relevant
        label = ", ".join(f"{key}={run.config[key]}" for key in shown[:LABEL_MAX_KEYS])
        if len(shown) > LABEL_MAX_KEYS:
            label += f" (+{len(shown) - LABEL_MAX_KEYS} more keys)"
        run.label = label or run.name
    labels = [run.label for run in runs]
    for run in runs:
        if labels.count(run.label) > 1:
            run.label = f"{run.label} ({run.name})"


def load_runs(paths):
    """Run objects for the paths, labelled; raises RunError for the first unreadable file."""
    runs = [Run(path) for path in paths]
    label_runs(runs)
    return runs
