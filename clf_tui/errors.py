"""The error hierarchy: every failure a user can cause is a ClfError with one clear line."""

from __future__ import annotations


class ClfError(Exception):
    """A problem with the user's input, told in one line: what is wrong, the value, the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ClfError):
    """A RunConfig field has a value it cannot take; ``field`` names it (None when no one field is at fault)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DataError(ClfError):
    """A data set could not be read or is not fit for classification."""


class CheckpointError(ClfError):
    """A checkpoint file is missing, corrupt, hostile, or does not fit the model."""


class DeviceError(ClfError):
    """The requested device is not available."""
