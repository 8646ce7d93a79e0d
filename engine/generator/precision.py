"""Which arithmetic trains a generator: ``--precision fp32|bf16|auto``.

fp32 trains on MXNet's fused RNN layer. bf16 trains on the same layer run by oneDNN's own
LSTM/GRU primitives in bfloat16 (``generator/onednn_layer.py``, the optional library in
``engine/native``); the weights, Adam and the gradients stay fp32. bf16 needs a CPU with
AVX512_BF16 or AMX (checked at run time from the CPU's flags) and the library; ``auto`` (the
default) takes bf16 where both are there and fp32 elsewhere, and says which it took and why
(``TrainingPath.reason``: the CLI's "run ..." line and the app's status line show it).
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from engine.config import PRECISIONS
from engine.errors import StudioError
from engine.wording import setting

BF16_FLAGS = ("avx512_bf16", "amx_bf16")   # /proc/cpuinfo names of AVX512_BF16 and AMX-BF16
SHOWN_FLAGS = ("avx2", "avx512f", "avx512_core", "avx512_bf16", "avx512_fp16", "amx_bf16",
               "amx_tile", "amx_int8")
# A developer's switch (tests, `rnn-studio bench`): run fp32 on the oneDNN layer too.
LAYER_ENV = "RNN_STUDIO_RNN_LAYER"


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> List[str]:
    """The CPU's feature flags (Linux's /proc/cpuinfo; empty where there is none)."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return value.split()
    return []


def cpu_has_bf16(flags: Optional[List[str]] = None) -> bool:
    """Whether the CPU computes in bfloat16 natively (AVX512_BF16 or AMX)."""
    flags = cpu_flags() if flags is None else flags
    return any(f in flags for f in BF16_FLAGS)


def cpu_summary(flags: Optional[List[str]] = None) -> dict:
    """What `rnn-studio bench` says about the CPU: {"bf16": bool, "flags": [the relevant ones]}."""
    flags = cpu_flags() if flags is None else flags
    return {"bf16": cpu_has_bf16(flags), "flags": [f for f in SHOWN_FLAGS if f in flags]}


def bf16_unavailable(flags: Optional[List[str]] = None) -> Optional[str]:
    """None when bf16 training can run here, else why not (one line)."""
    flags = cpu_flags() if flags is None else flags
    if not cpu_has_bf16(flags):
        shown = ", ".join(f for f in SHOWN_FLAGS if f in flags) or "none of note"
        return f"bf16 needs a CPU with AVX512_BF16 or AMX; this one has neither (flags: {shown})"
    from engine.native import onednn_rnn
    return onednn_rnn.bf16_support()


def bf16_feature(flags: Optional[List[str]] = None) -> str:
    """The CPU's bf16 feature in words: "AMX", "AVX512_BF16" (AMX named first: oneDNN prefers it)."""
    flags = cpu_flags() if flags is None else flags
    return "AMX" if "amx_bf16" in flags else "AVX512_BF16"


@dataclass(frozen=True)
class TrainingPath:
    precision: str      # "fp32" or "bf16": what the run trains in
    layer: str          # "fused" (MXNet's RNN layer) or "onednn" (generator/onednn_layer.py)
    reason: str = ""    # why this precision, for people ("this CPU has AMX")

    @property
    def bf16(self) -> bool:
        return self.precision == "bf16"

    def describe(self) -> str:
        """e.g. "bf16 (this CPU has AVX512_BF16)": what the run trains in, and why."""
        return f"{self.precision} ({self.reason})" if self.reason else self.precision


def training_path(requested: str, ctx_name: str = "cpu",
                  flags: Optional[List[str]] = None) -> TrainingPath:
    """The precision and layer for ``--precision requested`` on this machine. ``auto``: bf16
    where it can run, else fp32. An explicit bf16 that cannot run is a StudioError saying why."""
    if requested not in PRECISIONS:
        raise StudioError(setting("precision"), f" must be fp32, bf16 or auto, not "
                          f"{requested!r}")
    on_cpu = (ctx_name or "cpu").strip().lower().startswith("cpu")
    why = bf16_unavailable(flags) if on_cpu else "bf16 training runs on the CPU only (--ctx cpu)"
    if requested == "bf16" and why:
        raise StudioError(setting("precision"), f" bf16: {why}; use ", setting("precision"),
                          " fp32 or auto")
    if requested == "bf16" or requested == "auto" and not why:
        chosen = "chosen" if requested == "bf16" else "auto"
        return TrainingPath("bf16", "onednn", f"{chosen}: this CPU has {bf16_feature(flags)}")
    reason = "chosen" if requested == "fp32" else f"auto: {why}"
    if on_cpu and os.environ.get(LAYER_ENV) == "onednn":
        from engine.native import onednn_rnn
        if onednn_rnn.unavailable_reason():
            raise StudioError(f"{LAYER_ENV}=onednn: {onednn_rnn.unavailable_reason()}")
        return TrainingPath("fp32", "onednn", reason)
    return TrainingPath("fp32", "fused", reason)


def path_for_cell(path: TrainingPath, requested: str, mode: str) -> TrainingPath:
    """``path`` for a model of cell ``mode``: the plain RNN ("rnn") has no bf16 layer here (the
    oneDNN library binds only oneDNN's LSTM and GRU primitives), so ``auto`` trains it in fp32
    on the fused layer and an explicit bf16 is a StudioError saying so."""
    if mode != "rnn" or path.layer != "onednn":
        return path
    if requested == "bf16":
        raise StudioError(setting("precision"), " bf16: the plain RNN cell trains in fp32 only; "
                          "use ", setting("precision"), " fp32 or auto")
    reason = "auto: the plain RNN cell trains in fp32 only" if path.bf16 else path.reason
    return TrainingPath("fp32", "fused", reason)
