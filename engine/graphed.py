"""The training step as a CUDA graph: forward, loss, backward and optimiser step captured once and replayed for
every full batch, so that a small batch costs one launch instead of dozens; and the rules for when it may be."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import torch
from torch import nn

from .batching import TensorBatches
from .control import RunControl

if TYPE_CHECKING:
    from .trainer import Trainer

WARMUP_STEPS = 3
"""Full batches an epoch steps eagerly, on a side stream, before it captures the step: PyTorch's recipe for
capturing a whole network, so that lazy set-up (the optimiser's state, cuBLAS's workspaces) happens outside the
graph. They are real steps on the epoch's first batches, so a capture trains nothing twice."""
MIN_FULL_BATCHES = 8
"""An epoch with fewer full batches steps eagerly: the warm-up and capture would cost more than the replays save."""

CAPTURED_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Sequential, nn.Linear, nn.Identity, nn.Flatten, nn.Dropout,
    nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Softmax, nn.LogSoftmax,
)
"""Layers whose forward is the same fixed sequence of kernels at every step (Dropout only with p = 0). Matched by
exact type: a subclass may change what its forward does."""
CAPTURED_LOSSES: tuple[type[nn.Module], ...] = (
    nn.BCEWithLogitsLoss, nn.BCELoss, nn.CrossEntropyLoss, nn.NLLLoss, nn.MSELoss,
)
CAPTURED_OPTIMIZERS: tuple[type[torch.optim.Optimizer], ...] = (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW)
DROPOUTS: tuple[type[nn.Module], ...] = (
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout,
)
_MODULE_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
_GLOBAL_MODULE_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
                        "_global_backward_pre_hooks")


def refusal(trainer: Trainer) -> str | None:
    """Why ``trainer``'s next epoch steps eagerly instead of replaying a captured CUDA graph; None when it replays one.

    Graphs are for CUDA and can be turned off with ``trainer.cuda_graphs = False``; everywhere else the rules of
    ``step_refusal`` apply, and a capture that failed once is not tried again.
    """
    if not trainer.cuda_graphs:
        return "CUDA graphs are turned off (cuda_graphs = False)"
    if trainer.device.type != "cuda":
        return f"the trainer is on {trainer.device}; CUDA graphs are for CUDA devices"
    if trainer.step_graph is not None and trainer.step_graph.failure is not None:
        return trainer.step_graph.failure
    return step_refusal(trainer)


def step_refusal(trainer: Trainer) -> str | None:
    """Why ``trainer``'s training step could not be captured and replayed with exactly the eager step's results,
    whatever its device; None when it could.

    A graph replays the kernels it recorded and nothing else: Python in the step runs once, at capture, and every
    replay reads and writes the same memory. So the step is captured only when it is the engine's own: the
    engine's TensorBatches on the trainer's device in one process, at least ``MIN_FULL_BATCHES`` full batches an
    epoch, a float32 model made only of ``CAPTURED_LAYERS`` and no dropout (its masks are drawn afresh each step;
    the eager step keeps drawing them exactly as before), a loss of ``CAPTURED_LOSSES``, and an SGD, Adam or AdamW
    on torch's fused kernel (Adam and AdamW may be ``capturable`` instead), with plain numbers for settings and
    no hooks anywhere.
    """
    if trainer.launch is not None:
        return "the trainer is one of several processes, whose steps wait on each other's gradients"
    loader = trainer.train_loader
    if type(loader) is not TensorBatches:
        return (f"the training batches come from a {type(loader).__name__}, not the engine's TensorBatches: "
                "their order and shapes are its own")
    if loader.shard is not None:
        return "the training batches are one process's share of the data"
    if not (_on(loader.X, trainer.device) and _on(loader.y, trainer.device)):
        return f"the training data is on {loader.X.device}, not on the trainer's {trainer.device}"
    if loader.X.dtype != torch.float32:
        return f"the training data is {loader.X.dtype}; graphs are captured for float32"
    n_full = len(loader.X) // loader.batch_size
    if n_full < MIN_FULL_BATCHES:
        return (f"an epoch has {n_full} full batches of {loader.batch_size} rows; capturing one pays off from "
                f"{MIN_FULL_BATCHES} on")
    return _model_refusal(trainer) or _loss_refusal(trainer.loss_fn) or _optimizer_refusal(trainer)


def _model_refusal(trainer: Trainer) -> str | None:
    if any(getattr(sys.modules[nn.Module.__module__], name, None) for name in _GLOBAL_MODULE_HOOKS):
        return "hooks are registered for every module, which a graph would run once instead of at every step"
    for name, module in trainer.model.named_modules():
        layer = f"the model's {type(module).__name__} layer" + (f" {name!r}" if name else "")
        if isinstance(module, DROPOUTS) and module.p > 0:
            return (f"{layer} drops units with p = {module.p:g}, a new random mask at every step; such steps stay "
                    "eager, so that they draw their masks exactly as before")
        if type(module) not in CAPTURED_LAYERS:
            return f"{layer} is not one known to capture (linear layers, activations and Sequential are)"
        if _hooked(module):
            return f"{layer} has hooks, which a graph would run once instead of at every step"
    params = list(trainer.model.parameters())
    if not params:
        return "the model has no parameters to train"
    for p in params:
        if p.dtype != torch.float32:
            return f"the model has {p.dtype} parameters; graphs are captured for float32"
        if not _on(p, trainer.device):
            return f"the model has parameters on {p.device}, not on the trainer's {trainer.device}"
        if p.grad is not None:
            return "the model holds gradients from an earlier backward pass, which the eager step adds to its first"
    return None


def _loss_refusal(loss_fn: nn.Module) -> str | None:
    if type(loss_fn) not in CAPTURED_LOSSES:
        return f"the loss {type(loss_fn).__name__} is not one known to capture"
    if _hooked(loss_fn):
        return f"the loss {type(loss_fn).__name__} has hooks, which a graph would run once instead of at every step"
    return None


def _optimizer_refusal(trainer: Trainer) -> str | None:
    optimizer = trainer.optimizer
    name = type(optimizer).__name__
    if type(optimizer) not in CAPTURED_OPTIMIZERS:
        return f"the optimiser {name} is not captured: only SGD, Adam and AdamW on their fused kernels are"
    if _optimizer_hooked(optimizer):
        return f"the optimiser {name} has step hooks, which a graph would run once instead of at every step"
    for i, group in enumerate(optimizer.param_groups):
        where = f"the optimiser {name}" + (f" (parameter group {i})" if len(optimizer.param_groups) > 1 else "")
        for key, value in group.items():
            if key != "params" and isinstance(value, torch.Tensor):
                return f"{where} holds its {key} as a tensor; graphs capture plain numbers"
        if group.get("differentiable"):
            return f"{where} is differentiable, which torch's fused kernels are not"
        capturable = bool(group.get("capturable")) and type(optimizer) is not torch.optim.SGD
        if not (group.get("fused") or capturable):
            kernel = "foreach" if group.get("foreach") else "for-loop"
            return (f"{where} runs torch's {kernel} kernel, which steps its state on the CPU; pass fused=True, "
                    "or leave foreach unset and the trainer picks the fused one")
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor) and not _on(value, trainer.device):
                return f"the optimiser {name} keeps state on {value.device}, not on the trainer's {trainer.device}"
    return None


def _hooked(module: nn.Module) -> bool:
    return any(getattr(module, name, None) for name in _MODULE_HOOKS)


def _optimizer_hooked(optimizer: torch.optim.Optimizer) -> bool:
    own = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")
    shared = ("_global_optimizer_pre_hooks", "_global_optimizer_post_hooks")
    return (any(getattr(optimizer, name, None) for name in own)
            or any(getattr(sys.modules[torch.optim.Optimizer.__module__], name, None) for name in shared))


def _on(tensor: torch.Tensor, device: torch.device) -> bool:
    """Whether ``tensor`` is on ``device``; "cuda" without an index is the current CUDA device."""
    if tensor.device.type != device.type:
        return False
    if device.type != "cuda" or device.index == tensor.device.index:
        return True
    current = torch.cuda.current_device()
    return (device.index if device.index is not None else current) == (
        tensor.device.index if tensor.device.index is not None else current)


def epoch_order(loader: TensorBatches) -> torch.Tensor | None:
    """The order in which ``loader``'s next epoch takes its rows, drawn as TensorBatches draws it (one permutation
    from its CPU generator, so that checkpoints and resumes stay exact), moved to the data's device; None when it
    does not shuffle."""
    if not loader.shuffle:
        return None
    order = torch.randperm(len(loader.X), generator=loader.generator)
    return order.to(loader.X.device, non_blocking=True)


class EpochSums(NamedTuple):
    """One pass's sums, still on the device: the loss summed over rows, the first batch's loss, rows, seconds paused."""

    total_loss: torch.Tensor
    first_batch_loss: torch.Tensor
    n_seen: int
    paused_s: float


class GraphBackend(Protocol):
    """How a StepGraph runs its step outside a graph and captures it into one (``CudaGraphs`` on a GPU)."""

    def warm(self, step: Callable[[], None]) -> None:
        """Run ``step`` once, eagerly, as a warm-up for its capture."""

    def capture(self, step: Callable[[], None]) -> Callable[[], None]:
        """Capture ``step`` and return what replays it."""


class CudaGraphs:
    """Warm-up on a side stream and capture with ``torch.cuda.graph``, as PyTorch's example of capturing a whole
    network, optimiser step included, does."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.side: torch.cuda.Stream | None = None

    def warm(self, step: Callable[[], None]) -> None:
        with torch.cuda.device(self.device):
            main = torch.cuda.current_stream()
            if self.side is None:
                self.side = torch.cuda.Stream()
            self.side.wait_stream(main)
            with torch.cuda.stream(self.side):
                step()
            main.wait_stream(self.side)

    def capture(self, step: Callable[[], None]) -> Callable[[], None]:
        graph = torch.cuda.CUDAGraph()
        # thread_local: the app's other threads may use CUDA (a region grid, say) while this one captures.
        with torch.cuda.device(self.device), torch.cuda.graph(graph, capture_error_mode="thread_local"):
            step()
        return graph.replay


class StepGraph:
    """One trainer's captured training step, and what it was captured against.

    ``train_epoch`` trains one epoch of the trainer's TensorBatches: it draws the epoch's order as TensorBatches
    does, gathers each full batch into fixed buffers on the device and replays the captured step on them, then
    steps the short last batch (another shape) eagerly with ``Trainer.train_step``. An epoch that finds no graph,
    or one captured against other weights, optimiser state or settings (a rollback or a checkpoint loads new
    optimiser state; a new learning rate changes the settings), steps its first ``WARMUP_STEPS`` full batches
    eagerly and captures the step before the next. Losses are summed on the device, inside the graph.
    """

    def __init__(self, backend: GraphBackend | None = None) -> None:
        self.backend = backend
        self.captures = 0
        """Steps captured so far: one per run, and one more after each change the graph cannot follow."""
        self.replays = 0
        """Full batches stepped by replaying the graph."""
        self.failure: str | None = None
        """Why a capture failed, in which case the trainer steps eagerly from then on."""
        self._replay: Callable[[], None] | None = None
        self._key: tuple[Any, ...] | None = None
        self._held: list[Any] = []
        self._parts: tuple[nn.Module, nn.Module, torch.optim.Optimizer] | None = None
        self._size = 0
        self._x = self._y = self._loss = self._total = torch.empty(0)

    def train_epoch(self, trainer: Trainer, control: RunControl) -> EpochSums | None:
        """One pass over ``trainer``'s TensorBatches (the caller checked ``refusal``), or None when a stop was
        requested during it."""
        loader: TensorBatches = trainer.train_loader
        X, y, size = loader.X, loader.y, loader.batch_size
        n_rows = len(X)
        n_full = n_rows // size
        order = epoch_order(loader)
        if self._replay is not None and self._key != self._fingerprint(trainer)[0]:
            self._release()
        if self._replay is None:
            self._prepare(trainer)
        self._total.zero_()
        first: torch.Tensor | None = None
        paused_s = 0.0
        warmed = 0
        for k in range(n_full):
            if control.paused:
                paused_s += control.wait_while_paused()
            if control.stop_requested:
                return None
            self._gather(X, y, order, k * size)
            if self._replay is not None:
                self._replay()
                self.replays += 1
            else:
                self._backend(trainer).warm(self._eager_step)
                warmed += 1
                if warmed >= WARMUP_STEPS and self.failure is None and k + 1 < n_full:
                    self._capture(trainer)
            if k == 0:
                first = self._loss.clone()
        start = n_full * size
        if start < n_rows:
            if control.paused:
                paused_s += control.wait_while_paused()
            if control.stop_requested:
                return None
            if order is None:
                x_rest, y_rest = X[start:], y[start:]
            else:
                x_rest, y_rest = X.index_select(0, order[start:]), y.index_select(0, order[start:])
            loss = trainer.train_step(x_rest, y_rest)
            self._total.add_(loss, alpha=n_rows - start)
            if first is None:
                first = loss
        assert first is not None
        return EpochSums(self._total.clone(), first, n_rows, paused_s)

    def _backend(self, trainer: Trainer) -> GraphBackend:
        if self.backend is None:
            self.backend = CudaGraphs(trainer.device)
        return self.backend

    def _prepare(self, trainer: Trainer) -> None:
        """Fixed buffers for a full batch of ``trainer``'s data, its loss and the epoch's sum."""
        loader: TensorBatches = trainer.train_loader
        X, y, size = loader.X, loader.y, loader.batch_size
        self._parts = (trainer.model, trainer.loss_fn, trainer.optimizer)
        self._size = size
        self._x = torch.empty((size, *X.shape[1:]), dtype=X.dtype, device=X.device)
        self._y = torch.empty((size, *y.shape[1:]), dtype=y.dtype, device=y.device)
        self._loss = torch.zeros((), device=X.device)
        self._total = torch.zeros((), device=X.device)

    def _release(self) -> None:
        self._replay = None
        self._key = None
        self._held = []

    def _gather(self, X: torch.Tensor, y: torch.Tensor, order: torch.Tensor | None, start: int) -> None:
        stop = start + self._size
        if order is None:
            self._x.copy_(X[start:stop])
            self._y.copy_(y[start:stop])
        else:
            index = order[start:stop]
            torch.index_select(X, 0, index, out=self._x)
            torch.index_select(y, 0, index, out=self._y)

    def _step(self) -> None:
        """What the graph holds: one optimiser step on the batch in the buffers, its loss kept and summed."""
        assert self._parts is not None
        model, loss_fn, optimizer = self._parts
        loss = loss_fn(model(self._x), self._y)
        loss.backward()
        optimizer.step()
        loss = loss.detach()
        self._loss.copy_(loss)
        self._total.add_(loss, alpha=self._size)

    def _eager_step(self) -> None:
        assert self._parts is not None
        self._step()
        self._parts[2].zero_grad(set_to_none=True)

    def _capture(self, trainer: Trainer) -> None:
        assert self._parts is not None
        optimizer = self._parts[2]
        # Captured from no gradients, backward allocates them in the graph's own memory, and each replay
        # overwrites them rather than adding to them.
        optimizer.zero_grad(set_to_none=True)
        # Torch refuses to capture an optimiser step unless every group says capturable; the fused kernels the
        # rules ask for compute the same either way, and the flag goes back so that checkpoints keep it as it was.
        flags = [(group, group["capturable"]) for group in optimizer.param_groups if "capturable" in group]
        for group, _ in flags:
            group["capturable"] = True
        try:
            replay = self._backend(trainer).capture(self._step)
        except RuntimeError as exc:
            self.failure = f"capturing the training step failed, so it steps eagerly: {exc}"
            return
        finally:
            for group, capturable in flags:
                group["capturable"] = capturable
            grads = [p.grad for p in _params(optimizer)]
            optimizer.zero_grad(set_to_none=True)
        # The graph reads and writes these by address: holding them keeps that memory theirs between replays (and
        # the ids in the key unique); the eager step, with no gradients left on the parameters, allocates its own.
        self._key, tensors = self._fingerprint(trainer)
        self._held = [grads, tensors, self._x, self._y, self._loss, self._total]
        self._replay = replay
        self.captures += 1

    @staticmethod
    def _fingerprint(trainer: Trainer) -> tuple[tuple[Any, ...], list[torch.Tensor]]:
        """What a graph is captured against: the objects, the memory of every tensor it touches and the
        optimiser's settings; and those tensors."""
        model, loss_fn, optimizer = trainer.model, trainer.loss_fn, trainer.optimizer
        loader: TensorBatches = trainer.train_loader
        tensors = [*model.parameters(), *model.buffers(), *loss_fn.buffers(), *_params(optimizer),
                   *_state_tensors(optimizer)]
        settings = tuple(
            tuple((key, repr(value)) for key, value in sorted(group.items()) if key not in ("params", "capturable"))
            for group in optimizer.param_groups
        )
        key = (id(model), id(loss_fn), id(optimizer), loader.batch_size, tuple(loader.X.shape[1:]), loader.X.dtype,
               tuple(loader.y.shape[1:]), loader.y.dtype, settings,
               tuple((id(t), t.data_ptr(), tuple(t.shape)) for t in tensors))
        return key, tensors


def _params(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _state_tensors(optimizer: torch.optim.Optimizer) -> Iterator[torch.Tensor]:
    for p in _params(optimizer):
        state = optimizer.state.get(p, {})
        for key in sorted(state):
            if isinstance(state[key], torch.Tensor):
                yield state[key]
