"""Device choice: "auto" | "cpu" | "cuda" | "cuda:N", with a clear error when CUDA is absent."""

from __future__ import annotations

import torch

from clf_tui.errors import DeviceError


def resolve_device(name: str) -> tuple[torch.device, str]:
    """The torch device for ``name`` and a short note saying why it was chosen.

    Only "auto" falls back to the CPU; asking for CUDA where there is none raises.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda"), f"auto: CUDA found ({torch.cuda.get_device_name(0)})"
        return torch.device("cpu"), "auto: no CUDA device, using the CPU"
    if name == "cpu":
        return torch.device("cpu"), "cpu as asked"
    if not name.startswith("cuda"):
        raise DeviceError(f"device = {name!r} is not one of auto, cpu, cuda, cuda:N")
    if not torch.cuda.is_available():
        raise DeviceError(f"device = {name!r} but this machine has no usable CUDA device; use device = cpu or auto")
    device = torch.device(name)
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise DeviceError(f"device = {name!r} but this machine has {count} CUDA device(s): cuda:0 to cuda:{count - 1}")
    return device, f"{name}: {torch.cuda.get_device_name(device)}"
