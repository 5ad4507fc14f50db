"""Model summary: totals, per-layer shapes and counts, byte sizes, and the model left as it was."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from clf_tui.engine import build_model, summarize

N_FEATURES = 5

MODELS = {
    "logistic": dict(kind="logistic", n_outputs=1),
    "mlp": dict(kind="mlp", n_outputs=3, hidden=(16, 8)),
    "mlp_dropout_sigmoid": dict(kind="mlp", n_outputs=1, hidden=(16,), dropout=0.2, final_layer="sigmoid"),
    "mlp_log_softmax": dict(kind="mlp", n_outputs=4, hidden=(12, 6), activation="tanh", final_layer="log_softmax"),
}


@pytest.fixture(params=list(MODELS))
def model(request: pytest.FixtureRequest) -> nn.Sequential:
    spec = dict(MODELS[request.param])
    return build_model(spec.pop("kind"), N_FEATURES, spec.pop("n_outputs"), **spec)


def test_totals_count_every_parameter(model: nn.Sequential) -> None:
    summary = summarize(model, N_FEATURES)
    n_params = sum(p.numel() for p in model.parameters())
    assert summary.n_params == summary.n_trainable == n_params
    assert sum(layer.n_params for layer in summary.layers) == n_params


def test_one_row_per_layer_with_its_output_shape(model: nn.Sequential) -> None:
    summary = summarize(model, N_FEATURES, batch_size=-1)
    assert [layer.name for layer in summary.layers] == [str(i) for i in range(len(model))]
    assert [layer.type_name for layer in summary.layers] == [type(m).__name__ for m in model]
    width = N_FEATURES
    for layer, module in zip(summary.layers, model, strict=True):
        if isinstance(module, nn.Linear):
            assert layer.n_params == (width + 1) * module.out_features
            width = module.out_features
        else:
            assert layer.n_params == 0
        assert layer.output_shape == (-1, width)


def test_the_batch_size_shown_is_the_one_asked_for() -> None:
    model = build_model("mlp", N_FEATURES, 2, hidden=(4,))
    assert {layer.output_shape for layer in summarize(model, N_FEATURES, batch_size=32).layers} == {(32, 4), (32, 2)}


def test_frozen_parameters_are_not_trainable() -> None:
    model = build_model("mlp", N_FEATURES, 2, hidden=(4,))
    model[0].requires_grad_(False)
    summary = summarize(model, N_FEATURES)
    assert summary.n_trainable == summary.n_params - (N_FEATURES * 4 + 4)
    assert summary.layers[0].n_trainable == 0


def test_sizes_in_bytes(model: nn.Sequential) -> None:
    summary = summarize(model, N_FEATURES)
    assert summary.param_bytes == summary.n_params * 4
    assert summary.buffer_bytes == 0
    assert summarize(model.double(), N_FEATURES).param_bytes == summary.n_params * 8


def test_buffers_count_in_the_size() -> None:
    model = nn.Sequential(nn.Linear(N_FEATURES, 3), nn.BatchNorm1d(3))
    summary = summarize(model, N_FEATURES)
    # running mean and variance (3 floats each) and the batch counter (one int64)
    assert summary.buffer_bytes == 3 * 4 * 2 + 8
    assert summary.total_bytes == summary.param_bytes + summary.buffer_bytes


def test_the_model_keeps_its_modes_and_device(model: nn.Sequential) -> None:
    model.train()
    model[0].eval()
    modes = [m.training for m in model.modules()]
    summarize(model, N_FEATURES)
    assert [m.training for m in model.modules()] == modes
    assert {p.device for p in model.parameters()} == {torch.device("cpu")}


def test_an_eval_model_stays_in_eval(model: nn.Sequential) -> None:
    model.eval()
    summarize(model, N_FEATURES)
    assert not any(m.training for m in model.modules())


def test_dropout_is_off_and_no_gradients_are_kept() -> None:
    model = build_model("mlp", N_FEATURES, 1, hidden=(8,), dropout=0.9)
    outputs: list[torch.Tensor] = []
    model[0].register_forward_hook(lambda _m, _i, output: outputs.append(output))
    model[2].register_forward_hook(lambda _m, _i, output: outputs.append(output))
    model.train()
    summarize(model, N_FEATURES)
    linear_out, dropout_out = outputs
    assert not dropout_out.requires_grad
    assert torch.equal(torch.relu(linear_out), dropout_out)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_model_is_summarised_on_its_device() -> None:
    model = build_model("mlp", N_FEATURES, 2, hidden=(4,)).cuda()
    summary = summarize(model, N_FEATURES)
    assert summary.layers[-1].output_shape == (-1, 2)
    assert {p.device.type for p in model.parameters()} == {"cuda"}
