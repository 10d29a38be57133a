"""Parse the `gpus` run option once for every runner: "all", a count, or device ids."""

from __future__ import annotations

import attrs

from medperf_core.errors import ConfigError


@attrs.frozen
class GpuRequest:
    """What the user asked for: all GPUs (count -1), a number of GPUs, or specific device ids."""

    count: int = 0
    device_ids: tuple[str, ...] = ()


def parse_gpus(value: str | None) -> GpuRequest | None:
    """None or "" → no GPUs (the default); "all"; "2"; "device=0,1" or "0,1" → those devices."""
    if value is None or not value.strip() or value.strip() in {"0", "none"}:
        return None
    text = value.strip().lower()
    if text == "all":
        return GpuRequest(count=-1)
    if text.startswith("device="):
        text = text.removeprefix("device=")
        ids = tuple(part.strip() for part in text.split(",") if part.strip())
        if ids:
            return GpuRequest(device_ids=ids)
    elif text.isdigit():
        return GpuRequest(count=int(text))
    elif all(part.strip().isdigit() for part in text.split(",")):
        return GpuRequest(device_ids=tuple(part.strip() for part in text.split(",")))
    raise ConfigError(f"cannot understand gpus={value!r}", 'use "all", a number like "1", or "device=0,1"')
