"""RunConfig: every setting of a run in one frozen dataclass, validated, read from and written to TOML."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from clf_tui.errors import ConfigError

CHOICES: dict[str, tuple[str, ...]] = {
    "scaler": ("standard", "minmax", "none"),
    "model": ("mlp", "logistic"),
    "activation": ("relu", "tanh", "sigmoid", "leaky_relu", "elu"),
    "loss": ("auto", "bce_logits", "bce", "cross_entropy", "nll", "mse"),
    "optimizer": ("sgd", "momentum", "rmsprop", "adam", "adamw"),
}
BINARY_ONLY_LOSSES = ("bce_logits", "bce")
MAX_FOLDS = 100


@dataclass(frozen=True)
class RunConfig:
    """Every setting of a training run. Each field's docstring line is its ``help``."""

    dataset: str = field(default="moons", metadata={"help": "built-in data set name, or a path to a .csv or .npz file"})
    target: str | None = field(default=None, metadata={"help": "target column of a CSV file"})
    n_samples: int | None = field(default=None, metadata={"help": "rows to generate for synthetic sets (default: the set's own)"})
    noise: float | None = field(default=None, metadata={"help": "noise of synthetic sets (default: the set's own)"})
    n_classes: int = field(default=3, metadata={"help": "classes of the blobs and spiral sets"})
    data_seed: int = field(default=0, metadata={"help": "seed that generates synthetic data"})
    val_fraction: float = field(default=0.2, metadata={"help": "fraction of rows held out for validation"})
    split_seed: int = field(default=13, metadata={"help": "seed of the train / validation split"})
    stratify: bool = field(default=True, metadata={"help": "keep class proportions in both splits"})
    scaler: str = field(default="standard", metadata={"help": "feature scaling fit on the training split"})
    drop: tuple[str, ...] = field(default=(), metadata={"help": "CSV columns not to learn from"})
    categorical: tuple[str, ...] = field(default=(), metadata={"help": "CSV columns to one-hot encode, whatever they hold"})
    numeric: tuple[str, ...] = field(default=(), metadata={"help": "CSV columns to read as numbers (other cells count as missing)"})
    na_values: tuple[str, ...] = field(default=(), metadata={"help": "CSV cells that mean missing, besides empty, NA, N/A, NaN, nan, null"})
    missing_indicators: bool = field(default=False, metadata={"help": "add a 0/1 column beside each CSV feature with missing training cells"})
    positive: str | None = field(default=None, metadata={"help": "positive class of a binary task (default: one named 1, yes, true or positive, else the rarer)"})

    model: str = field(default="mlp", metadata={"help": "mlp, or logistic (one linear layer)"})
    hidden: tuple[int, ...] = field(default=(32, 32), metadata={"help": "hidden layer sizes of the MLP"})
    activation: str = field(default="relu", metadata={"help": "activation between MLP layers"})
    dropout: float = field(default=0.0, metadata={"help": "dropout probability after each hidden layer"})

    loss: str = field(default="auto", metadata={"help": "auto picks bce_logits for binary, cross_entropy for multiclass"})
    pos_weight: str | float = field(default="none", metadata={"help": "bce_logits weight of positives: none, auto (n_neg / n_pos) or a number"})

    optimizer: str = field(default="adam", metadata={"help": "optimiser"})
    lr: float = field(default=0.01, metadata={"help": "learning rate"})
    momentum: float = field(default=0.9, metadata={"help": "momentum of the momentum (SGD) optimiser"})
    nesterov: bool = field(default=False, metadata={"help": "Nesterov momentum (momentum optimiser)"})
    weight_decay: float = field(default=0.0, metadata={"help": "L2 penalty (decoupled for adamw)"})
    betas: tuple[float, float] = field(default=(0.9, 0.999), metadata={"help": "Adam / AdamW moment decay rates"})

    batch_size: int = field(default=32, metadata={"help": "rows per mini-batch"})
    epochs: int = field(default=100, metadata={"help": "epochs to train"})
    seed: int = field(default=42, metadata={"help": "seed of weights, dropout and batch order"})
    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda or cuda:N"})
    threads: int = field(default=1, metadata={"help": "CPU threads for torch (1 is fastest for small models)"})

    early_stopping: bool | str = field(default="auto", metadata={"help": "stop when validation loss stops improving: true, false, or auto (on for your own .csv / .npz files, off for the built-in sets, whose whole curves the lessons watch)"})
    patience: int = field(default=10, metadata={"help": "epochs without improvement before an early stop"})
    min_delta: float = field(default=0.0, metadata={"help": "smallest drop in validation loss that counts as improvement"})
    restore_best: bool = field(default=True, metadata={"help": "after an early stop, keep the best epoch's weights"})

    temperature_scaling: bool = field(default=False, metadata={"help": "at the end of each run, fit one temperature on the validation split that calibrates the probabilities (kept in the checkpoint)"})
    cost_fp: float | None = field(default=None, metadata={"help": "cost of a false positive, any unit; with cost_fn, the threshold becomes the one of least expected cost (binary tasks)"})
    cost_fn: float | None = field(default=None, metadata={"help": "cost of a false negative, in cost_fp's unit"})
    prevalence: float | None = field(default=None, metadata={"help": "share of positives expected in deployment, for the costs (default: the validation split's)"})
    folds: int = field(default=0, metadata={"help": "cross-validation: K >= 2 trains K models on stratified folds of all the rows (0 or 1: one run)"})

    out_dir: str = field(default="runs", metadata={"help": "folder for the checkpoint, config and metrics of a run"})
    checkpoint_every_s: float = field(default=60.0, metadata={"help": "seconds between checkpoints written during a run, at the end of an epoch (0: only the final one)"})
    checkpoint_every_epochs: int = field(default=0, metadata={"help": "also write a checkpoint after every N-th epoch of the run's life: 3 writes after epochs 3, 6, 9, ... (0: off)"})

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _coerce(f, getattr(self, f.name)))
        _validate(self)

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed, validated."""
        unknown = sorted(set(changes) - FIELD_NAMES)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}; settings are: {', '.join(sorted(FIELD_NAMES))}")
        return dataclasses.replace(self, **changes)

    def resolved_loss(self, task: str) -> str:
        """The loss to use for a binary or multiclass task ('auto' resolved)."""
        if self.loss == "auto":
            return "bce_logits" if task == "binary" else "cross_entropy"
        return self.loss

    @property
    def stops_early(self) -> bool:
        """Whether the run stops once validation loss stops improving (``early_stopping`` with 'auto' resolved)."""
        if self.early_stopping == "auto":
            return self.dataset.lower().endswith((".csv", ".npz"))
        return bool(self.early_stopping)

    @property
    def cross_validates(self) -> bool:
        """Whether ``clf-tui train`` cross-validates over ``folds`` folds instead of training one run."""
        return self.folds >= 2

    @property
    def has_costs(self) -> bool:
        """Whether the costs of errors are given, so that a run's threshold is the one of least expected cost."""
        return self.cost_fp is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain primitives and lists; None fields are left out (TOML has no null)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> RunConfig:
        """Build from a mapping such as a parsed TOML file; unknown keys are an error."""
        unknown = sorted(set(data) - FIELD_NAMES)
        if unknown:
            raise ConfigError(f"{source}: unknown setting {unknown[0]!r}; settings are: {', '.join(sorted(FIELD_NAMES))}")
        try:
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc.message}", field=exc.field) from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RunConfig:
        """Read a TOML file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"no such config file: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        except RecursionError:  # tomllib parses nested arrays and tables recursively
            raise ConfigError(f"{path} nests arrays or tables too deeply to be a run config") from None
        return cls.from_dict(data, source=str(path))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write a TOML file atomically, one commented line per setting."""
        from .atomic import write_atomic

        lines = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                lines.append(f"# {f.metadata['help']}\n{f.name} = {_toml_value(value)}\n")
        return write_atomic(Path(path), "\n".join(lines).encode("utf-8"))

    @classmethod
    def parse_field(cls, name: str, text: str) -> Any:
        """Turn a command-line or form string into a value for field ``name``.

        Raises ConfigError naming the field when the text does not parse; range and
        choice checks happen when the config is built.
        """
        f = FIELDS.get(name)
        if f is None:
            raise ConfigError(f"unknown setting {name!r}; settings are: {', '.join(sorted(FIELD_NAMES))}")
        text = text.strip()
        kind = _kind(f)
        if kind in ("optional_int", "optional_float", "optional_str") and text.lower() in ("", "none", "default"):
            return None
        try:
            if kind in ("int", "optional_int"):
                return int(text)
            if kind in ("float", "optional_float"):
                return float(text)
            if kind in ("bool", "auto_bool"):
                lowered = text.lower()
                if kind == "auto_bool" and lowered == "auto":
                    return "auto"
                if lowered in ("true", "yes", "on", "1"):
                    return True
                if lowered in ("false", "no", "off", "0"):
                    return False
                raise ValueError
            if kind == "str_tuple":
                return tuple(part.strip() for part in text.split(",") if part.strip())
            if kind in ("int_tuple", "float_tuple"):
                parts = [p for p in text.replace(",", " ").split() if p]
                convert = int if kind == "int_tuple" else float
                return tuple(convert(p) for p in parts)
            if kind == "pos_weight":
                return text.lower() if text.lower() in ("none", "auto") else float(text)
        except ValueError:
            raise ConfigError(f"{name} = {text!r} is not {_KIND_WORDS[kind]}", field=name) from None
        return text


FIELDS = {f.name: f for f in fields(RunConfig)}
FIELD_NAMES = frozenset(FIELDS)

_KIND_WORDS = {
    "int": "a whole number", "optional_int": "a whole number (or 'default')",
    "float": "a number", "optional_float": "a number (or 'default')",
    "bool": "true or false", "int_tuple": "a list of whole numbers such as 32,16",
    "float_tuple": "a list of numbers such as 0.9,0.999", "pos_weight": "none, auto or a number",
    "str_tuple": "a list of names", "auto_bool": "true, false or auto",
    "str": "text", "optional_str": "text",
}


def _kind(f: dataclasses.Field) -> str:
    """The field's value kind, read from its annotation string."""
    return {
        "str": "str", "str | None": "optional_str", "int": "int", "int | None": "optional_int",
        "float": "float", "float | None": "optional_float", "bool": "bool",
        "tuple[int, ...]": "int_tuple", "tuple[float, float]": "float_tuple", "str | float": "pos_weight",
        "tuple[str, ...]": "str_tuple", "bool | str": "auto_bool",
    }[str(f.type)]


def _coerce(f: dataclasses.Field, value: Any) -> Any:
    """Check a value's type against its field (ints are accepted for floats, lists for tuples)."""
    kind = _kind(f)
    if value is None and kind.startswith("optional_"):
        return None
    base = kind.removeprefix("optional_")
    ok: bool
    if base == "bool":
        ok = isinstance(value, bool)
    elif base == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif base == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif base == "str":
        ok = isinstance(value, str)
    elif base == "pos_weight":
        if isinstance(value, str):
            ok = value.lower() in ("none", "auto")
            value = value.lower()
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
    elif base == "auto_bool":
        ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() == "auto")
        value = value.lower() if isinstance(value, str) and ok else value
    elif base == "str_tuple":
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:  # tuples of numbers
        item = int if base == "int_tuple" else (int, float)
        ok = isinstance(value, (list, tuple)) and all(
            isinstance(v, item) and not isinstance(v, bool) for v in value
        )
        if ok:
            value = tuple(v if base == "int_tuple" else float(v) for v in value)
    if not ok:
        raise ConfigError(f"{f.name} = {value!r} is not {_KIND_WORDS[kind]}", field=f.name)
    return value


def _require(ok: bool, name: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{name} = {value!r} is invalid: expected {expected}", field=name)


def _validate(cfg: RunConfig) -> None:
    # Here, not at the top: the data sets load NumPy, which reading the fields (`clf-tui --help`) does not need.
    from clf_tui.datasets.builtin import builtin_names, check_options

    for name, choices in CHOICES.items():
        value = getattr(cfg, name)
        if value not in choices:
            raise ConfigError(f"{name} = {value!r} is invalid; choose one of: {', '.join(choices)}", field=name)
    dataset = cfg.dataset
    is_file = dataset.lower().endswith((".csv", ".npz"))
    if not is_file and dataset not in builtin_names():
        raise ConfigError(
            f"dataset = {dataset!r} is neither a built-in ({', '.join(builtin_names())}) nor a .csv / .npz path",
            field="dataset",
        )
    if dataset.lower().endswith(".csv") and not cfg.target:
        raise ConfigError(f"dataset = {dataset!r} is a CSV file: set target to the name of its label column",
                          field="dataset")
    check_options(n_samples=cfg.n_samples, noise=cfg.noise, n_classes=cfg.n_classes)
    finite = math.isfinite
    _require(finite(cfg.val_fraction) and 0 < cfg.val_fraction < 1, "val_fraction", cfg.val_fraction, "between 0 and 1, exclusive")
    _require(len(cfg.hidden) <= 16 and all(1 <= h <= 65536 for h in cfg.hidden), "hidden", cfg.hidden,
             "up to 16 layer sizes, each between 1 and 65536")
    _require(cfg.model == "logistic" or len(cfg.hidden) >= 1, "hidden", cfg.hidden, "at least one layer size for an mlp")
    _require(finite(cfg.dropout) and 0 <= cfg.dropout < 1, "dropout", cfg.dropout, "between 0 (none) and 1 (exclusive)")
    if isinstance(cfg.pos_weight, float):
        _require(finite(cfg.pos_weight) and cfg.pos_weight > 0, "pos_weight", cfg.pos_weight, "none, auto or a number > 0")
    if cfg.pos_weight != "none" and cfg.loss not in ("auto", "bce_logits"):
        raise ConfigError(f"pos_weight = {cfg.pos_weight!r} applies only to loss = 'bce_logits', not {cfg.loss!r}",
                          field="pos_weight")
    _require(finite(cfg.lr) and cfg.lr > 0, "lr", cfg.lr, "a number > 0")
    _require(finite(cfg.momentum) and 0 <= cfg.momentum < 1, "momentum", cfg.momentum, "between 0 and 1 (exclusive)")
    _require(finite(cfg.weight_decay) and cfg.weight_decay >= 0, "weight_decay", cfg.weight_decay, "a number >= 0")
    _require(len(cfg.betas) == 2 and all(finite(b) and 0 <= b < 1 for b in cfg.betas), "betas", cfg.betas,
             "two numbers in [0, 1), such as 0.9,0.999")
    _require(cfg.batch_size >= 1, "batch_size", cfg.batch_size, "a whole number >= 1")
    _require(1 <= cfg.epochs <= 1_000_000, "epochs", cfg.epochs, "between 1 and 1000000")
    _require(0 <= cfg.seed < 2**63, "seed", cfg.seed, "a whole number >= 0")
    _require(0 <= cfg.data_seed < 2**32, "data_seed", cfg.data_seed, "a whole number in [0, 2**32)")
    _require(0 <= cfg.split_seed < 2**32, "split_seed", cfg.split_seed, "a whole number in [0, 2**32)")
    _require(_is_device_name(cfg.device), "device", cfg.device, "auto, cpu, cuda or cuda:N")
    _require(1 <= cfg.threads <= 1024, "threads", cfg.threads, "a whole number between 1 and 1024")
    _require(cfg.patience >= 1, "patience", cfg.patience, "a whole number >= 1")
    _require(finite(cfg.min_delta) and cfg.min_delta >= 0, "min_delta", cfg.min_delta, "a number >= 0")
    _require(bool(cfg.out_dir.strip()), "out_dir", cfg.out_dir, "a folder path")
    _require(finite(cfg.checkpoint_every_s) and cfg.checkpoint_every_s >= 0, "checkpoint_every_s",
             cfg.checkpoint_every_s, "a number of seconds >= 0 (0: off)")
    _require(0 <= cfg.checkpoint_every_epochs <= 1_000_000, "checkpoint_every_epochs", cfg.checkpoint_every_epochs,
             "a whole number of epochs between 0 (off) and 1000000")
    _validate_costs(cfg)
    _require(0 <= cfg.folds <= MAX_FOLDS, "folds", cfg.folds,
             f"a whole number of folds from 2 to {MAX_FOLDS} (0 or 1: no cross-validation)")
    for name in ("drop", "categorical", "numeric", "na_values"):
        names = getattr(cfg, name)
        _require(len(set(names)) == len(names), name, names, "names given once each")
    for name in ("drop", "categorical", "numeric"):
        _require(all(getattr(cfg, name)), name, getattr(cfg, name), "column names")
        if getattr(cfg, name) and not is_file:
            raise ConfigError(f"{name} = {list(getattr(cfg, name))!r} applies to the columns of a CSV file, "
                              f"not to dataset = {dataset!r}", field=name)
    if (cfg.na_values or cfg.missing_indicators) and not dataset.lower().endswith(".csv"):
        setting = "na_values" if cfg.na_values else "missing_indicators"
        raise ConfigError(f"{setting} applies to CSV files, not to dataset = {dataset!r}", field=setting)


def _validate_costs(cfg: RunConfig) -> None:
    """Both costs or neither, each finite and >= 0, not both 0; a prevalence only beside them, in (0, 1)."""
    for name, other in (("cost_fp", "cost_fn"), ("cost_fn", "cost_fp")):
        value = getattr(cfg, name)
        if value is None and getattr(cfg, other) is not None:
            raise ConfigError(f"{other} = {getattr(cfg, other)!r} is given without {name}: set both costs, or "
                              "neither", field=name)
        if value is not None:
            _require(math.isfinite(value) and value >= 0, name, value, "a finite number >= 0")
    if cfg.cost_fp == 0 and cfg.cost_fn == 0:
        raise ConfigError("cost_fp = 0 and cost_fn = 0: with no cost to weigh, no threshold is better than another; "
                          "give at least one cost above 0", field="cost_fp")
    if cfg.prevalence is not None:
        _require(math.isfinite(cfg.prevalence) and 0 < cfg.prevalence < 1, "prevalence", cfg.prevalence,
                 "a share of positives between 0 and 1, exclusive")
        if cfg.cost_fp is None:
            raise ConfigError(f"prevalence = {cfg.prevalence!r} weighs the costs of errors, and none are given: "
                              "set cost_fp and cost_fn too, or leave prevalence unset", field="prevalence")


def _is_device_name(name: str) -> bool:
    if name in ("auto", "cpu", "cuda"):
        return True
    prefix, _, index = name.partition(":")
    return prefix == "cuda" and index.isdigit()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string, except that JSON escapes characters beyond U+FFFF as surrogate
        # pairs, which TOML refuses (so they stay raw), and leaves DEL raw, which TOML refuses (so it is escaped).
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"
