"""The same sessions as tox.ini, for nox users: ``nox -l`` lists them.

The matrix: install sets {core, srv, client} x pluggy {min, latest} x Python 3.10-3.13;
the 3.11 client/latest cell runs the whole suite, the others the fast set (not ``slow``).
Interpreters that are missing are skipped (never downloaded), also under CI=true.
"""

from __future__ import annotations

import nox

nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "strace", "integration", "lint"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
INSTALL_SETS = {
    "core": ["."],
    "srv": [".", "./packages/qpp-srv", "mypy"],
    "client": [".", "./packages/qpp-srv", "./packages/qpp-client", "mypy"],
}
PLUGGY = {"min": "pluggy==1.5.0", "latest": "pluggy"}


@nox.session(python=PYTHONS)
@nox.parametrize("pluggy", list(PLUGGY))
@nox.parametrize("install_set", list(INSTALL_SETS))
def tests(session: nox.Session, install_set: str, pluggy: str) -> None:
    """The test suite against one install set and one pluggy version."""
    session.install(
        *INSTALL_SETS[install_set], PLUGGY[pluggy], "pytest", "pytest-xdist", "hypothesis"
    )
    if install_set == "client" and pluggy == "latest":  # qpp batch --dask, as tox
        session.install("dask[distributed]")
    full = install_set == "client" and pluggy == "latest" and session.python == "3.11"
    # as tox: the Linux layer's guest tests do not depend on the install set
    linux = [] if install_set == "client" else ["--ignore=tests/linux", "--ignore=tests/thirdparty"]
    session.run(
        "pytest",
        "-n",
        "auto",
        "-m",
        "not integration" if full else "not integration and not slow",
        *linux,
        *session.posargs,
        env={"QPP_INSTALL_SET": install_set, "QPP_CACHE_DIR": f"{session.create_tmp()}/qpp-cache"},
    )


@nox.session(python="3.11")
def strace(session: nox.Session) -> None:
    """The syscalls/strace QPP pair installed beside the core."""
    session.install(
        ".", "./packages/qpp-syscalls", "./packages/qpp-strace", "pytest", "pytest-xdist"
    )
    session.run("pytest", "-n", "auto", "tests/plugins/test_strace.py", *session.posargs)


@nox.session(python="3.11")
def integration(session: nox.Session) -> None:
    """pip-install the real distributions into fresh virtual environments."""
    session.install(".", "pytest", "hypothesis", "build", "uv", "dask[distributed]")
    session.run("pytest", "-m", "integration", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff, mypy (also over qpp-client's calls into qpp-srv, and the tests), import-linter."""
    session.install(
        ".",
        "./packages/qpp-srv",
        "./packages/qpp-client",
        "./packages/qpp-syscalls",
        "./packages/qpp-strace",
        "ruff",
        "mypy",
        "import-linter",
        "pytest",  # the tests are type-checked too: the libraries they import
        "hypothesis",
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("python", "tools/mypy_tests.py")
    session.run("lint-imports")
