"""Creating a unicorn CPU for a guest: engine, CPU model (``-cpu``), per-arch setup."""

from __future__ import annotations

from ..errors import GuestUnsupportedError
from .arch import Arch, Uc, cpu_setup
from .arch.base import new_uc, normalise_cpu_name


def resolve_cpu_model(arch: Arch, name: str | None) -> int:
    """The unicorn model id for ``-cpu NAME`` (the architecture's default without one)."""
    if name is None:
        return arch.default_cpu
    models = {normalise_cpu_name(k): v for k, v in arch.cpu_models.items()}
    key = normalise_cpu_name(name)
    if key not in models:
        known = ", ".join(sorted(arch.cpu_models))
        raise GuestUnsupportedError(
            f"-cpu {name}: no such CPU model for {arch.name}; choose one of: {known}"
        )
    return models[key]


def create_cpu(arch: Arch, cpu: str | None) -> Uc:
    """A fresh unicorn engine for ``arch`` with the chosen model, ready for memory mapping.

    The model must be set before anything else touches the engine, so this is the only
    place that constructs ``Uc``. The per-architecture ``setup_cpu`` then enables what
    Linux user programs expect (FPU, vector units) and installs the few quirk hooks.
    """
    model = resolve_cpu_model(arch, cpu)
    uc = new_uc(arch.uc_arch, arch.uc_mode)
    uc.ctl_set_cpu_model(model)
    cpu_setup(arch)(uc, model)
    return uc
