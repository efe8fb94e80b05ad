"""Creating a unicorn CPU for a guest: engine, CPU model (``-cpu``), per-arch setup."""

from __future__ import annotations

from ..errors import ExitStatus, QppError
from .arch import ARCHES, Arch, Uc, cpu_setup
from .arch.base import new_uc, normalise_cpu_name


class UnknownCpuModelError(QppError):
    """``-cpu NAME`` names no model of the guest's architecture: a bad command line."""

    exit_status = ExitStatus.USAGE


def resolve_cpu_model(arch: Arch, name: str | None) -> int:
    """The model id for ``-cpu NAME`` (the architecture's default without one)."""
    if name is None:
        return arch.default_cpu
    models = {normalise_cpu_name(k): v for k, v in arch.cpu_models.items()}
    key = normalise_cpu_name(name)
    if key not in models:
        raise UnknownCpuModelError(
            f"-cpu {name}: no such CPU model for {arch.name}; `-cpu help` lists the models"
        )
    return models[key]


def arch_for_model(arch: Arch, name: str | None) -> Arch:
    """``arch`` as a guest on ``-cpu NAME`` sees it: that model's HWCAP and HWCAP2."""
    caps = arch.model_hwcaps.get(resolve_cpu_model(arch, name))
    if caps is None:
        return arch
    # quirk hooks that answer as qemu's default model: another model answers as itself
    quirks = None if arch.quirks_default_model_only else arch.hook_code_quirks
    return arch._replace(hwcap=caps[0], hwcap2=caps[1], hook_code_quirks=quirks)


def default_model_name(arch: Arch) -> str:
    """The ``-cpu`` name of the architecture's default model."""
    names = sorted(k for k, v in arch.cpu_models.items() if v == arch.default_cpu)
    return "max" if "max" in names else names[0]


def cpu_help() -> str:
    """``-cpu help``: each architecture's models, its default first."""
    lines = ["CPU models (-cpu NAME), per guest architecture; the first is the default:"]
    for arch in ARCHES.values():
        default = default_model_name(arch)
        others = sorted(k for k in arch.cpu_models if k != default)
        lines.append(f"  {arch.name}: {default} (default), {', '.join(others)}")
    return "\n".join(lines)


def create_cpu(arch: Arch, cpu: str | None) -> Uc:
    """A fresh unicorn engine for ``arch`` with the chosen model, ready for memory mapping.

    The model must be set before anything else touches the engine, so this is the only
    place that constructs ``Uc``. qpp's own models run on the unicorn model named in
    ``arch.engine_models``. The per-architecture ``setup_cpu`` then enables what Linux
    user programs expect (FPU, vector units) and installs the few quirk hooks.
    """
    model = resolve_cpu_model(arch, cpu)
    uc = new_uc(arch.uc_arch, arch.uc_mode)
    uc.ctl_set_cpu_model(arch.engine_models.get(model, model))
    cpu_setup(arch)(uc, model)
    return uc
