"""A scaler's inverse gives back the data's own values, within float32 rounding of the scaled table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from clf_tui.datasets import load
from clf_tui.datasets.scaling import SCALER_KINDS, fit_scaler

from .test_scaling import measurements


@pytest.mark.parametrize("kind", SCALER_KINDS)
@settings(max_examples=60, deadline=None)
@given(X=measurements)
def test_inverse_undoes_transform(kind: str, X: np.ndarray) -> None:
    scaler = fit_scaler(X, kind)
    back = scaler.inverse_transform(scaler.transform(X))
    assert back.dtype == np.float64
    # One float32 step of the scaled value, in the data's units.
    step = np.finfo(np.float32).eps * (np.abs(scaler.transform(X)) + 1) * scaler.scale
    assert (np.abs(back - X) <= step).all()


def test_a_loaded_split_comes_back_in_its_own_units(tmp_path) -> None:
    rows = [(i, (7 * i) % 11, i % 2) for i in range(40)]
    csv = tmp_path / "counts.csv"
    csv.write_text("a,b,label\n" + "".join(f"{a},{b},{label}\n" for a, b, label in rows))
    data = load(str(csv), target="label")
    raw = np.round(data.scaler.inverse_transform(data.X_val))
    assert np.allclose(data.scaler.inverse_transform(data.X_val), raw, rtol=0, atol=1e-4)
    assert {tuple(row) for row in raw.tolist()} <= {(a, b) for a, b, _ in rows}
    assert not np.allclose(data.X_val, raw)  # the split itself is scaled
