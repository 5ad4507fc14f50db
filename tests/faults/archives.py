"""Zip archives built by hand, as a damaged or crafted .npz or .pt file would be."""

from __future__ import annotations

import io
import zipfile


def zipped(members: dict[str, bytes]) -> bytes:
    """A zip archive holding ``members`` exactly as given, with no format of its own imposed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
