"""Builds qpp's optional native fast path (``qpp_core/instrument/_fastpath.c``).

Everything else is declared in pyproject.toml. The C file is plain C loaded with ctypes
(no Python C-API), so it is built as an extension module only to let pip compile it with
the machine's compiler; when that fails (no compiler) the install goes on without it and
qpp uses its pure-Python backend, which gives identical results.
"""

from __future__ import annotations

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` that warns instead of failing when the C compiler is missing."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all
            print(f"qpp: native fast path not built ({exc}); the Python backend will be used")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # compiler failed
            print(f"qpp: native fast path not built ({exc}); the Python backend will be used")


setup(
    ext_modules=[
        Extension(
            "qpp_core.instrument._fastpath",
            sources=["qpp_core/instrument/_fastpath.c"],
            extra_compile_args=["-O2", "-fvisibility=hidden"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
