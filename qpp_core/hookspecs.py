"""The hooks a qpp plugin may implement: this module is their reference documentation.

A plugin is a module (named by its ``qemu_plugins`` entry point) whose functions are marked
with :data:`qpp_core.hookimpl` and named after the specifications below, as in pytest.
Every specification mirrors an event of QEMU's TCG plugin API (``include/qemu/qemu-plugin.h``);
the ``qemu_plugin_register_*`` functions of :mod:`qpp_core` remain available for code ported
from C, and both feed the same dispatch.

Calling conventions (pluggy's):

* arguments are passed by keyword; an implementation may accept any subset of them, in any
  order, and qpp checks the names when the plugin is loaded (the error names the plugin, the
  hook and the accepted signature);
* *global* events (vcpu init/exit, translation, syscalls, flush, atexit) are delivered to
  every implementing plugin, newest-loaded plugin first, as QEMU does;
* :func:`qemu_plugin_install` is not broadcast: qpp calls each plugin's own implementation
  once, in load order (dependencies first), with that plugin's id and arguments.

A hook nobody implements costs nothing while the guest runs: qpp asks unicorn for the
underlying event only when at least one plugin listens to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from qpp_core.instrument.handles import TranslationBlock
    from qpp_core.loading.args import PluginArgs
    from qpp_core.session import PluginId, PluginInfo

PROJECT = "qpp"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def qemu_plugin_install(id: PluginId, info: PluginInfo, args: PluginArgs) -> int | None:
    """Install the plugin: called once, after its dependencies, before the guest starts.

    :param id: this plugin's id, to pass to the ``qemu_plugin_*`` functions that take one
        (keep it in a module global, as a C plugin keeps its ``qemu_plugin_id_t``).
    :param info: target name, supported API version range, system-emulation flag, vcpus.
    :param args: the plugin's ``-p NAME,KEY=VAL`` arguments, already validated against
        the plugin's ``qemu_plugin_args`` declaration when it has one.
    :return: ``None`` or ``0`` on success. Any other value, or an exception, fails the load:
        qpp then uninstalls the plugin completely (callbacks it created, functions it
        registered, hooks it added) and stops with :attr:`ExitStatus.PLUGIN_INSTALL`.
    """


@hookspec
def qemu_plugin_vcpu_init(vcpu_index: int) -> None:
    """A vcpu was created (``qemu_plugin_register_vcpu_init_cb``); user mode has vcpu 0."""


@hookspec
def qemu_plugin_vcpu_exit(vcpu_index: int) -> None:
    """A vcpu exited: the guest process ended (``qemu_plugin_register_vcpu_exit_cb``)."""


@hookspec
def qemu_plugin_vcpu_tb_trans(tb: TranslationBlock) -> None:
    """A translation block is about to execute for the first time since it was translated.

    From here, and only from here, a plugin may register execution callbacks, memory
    callbacks and inline operations on the block and its instructions; they take effect on
    this very first execution (``qemu_plugin_register_vcpu_tb_trans_cb``).
    """


@hookspec
def qemu_plugin_vcpu_syscall(
    vcpu_index: int, num: int, args: tuple[int, int, int, int, int, int, int, int]
) -> None:
    """The guest is about to execute system call ``num`` (``..._register_vcpu_syscall_cb``).

    ``args`` are the eight raw argument words, as QEMU passes ``a1`` ... ``a8``.
    """


@hookspec(firstresult=True)
def qemu_plugin_vcpu_syscall_filter(
    vcpu_index: int, num: int, args: tuple[int, int, int, int, int, int, int, int]
) -> int | None:
    """Decide whether to skip a system call (``qemu_plugin_register_vcpu_syscall_filter_cb``).

    Return an integer to skip the call and make it the guest-visible result (a negative
    errno for failure, as the kernel returns); return ``None`` to let it run. The first
    plugin (newest first) that returns a value wins.
    """


@hookspec
def qemu_plugin_vcpu_syscall_ret(vcpu_index: int, num: int, ret: int) -> None:
    """System call ``num`` returned ``ret`` (``..._register_vcpu_syscall_ret_cb``)."""


@hookspec
def qemu_plugin_flush() -> None:
    """Translated code was dropped; handles to old blocks and instructions are now stale."""


@hookspec
def qpp_guest_exec(path: str, argv: list[str], arch: str, load_bias: int, entry: int) -> None:
    """The guest process exec'd a new program (qpp's own event; QEMU has none).

    Processes: every guest process is a host process. After a guest ``fork`` the child
    runs on with every plugin and its state, as in qemu-user, and runs the atexit
    callbacks when it ends, so a plugin reports once per process (``-D FILE.%d`` gives
    each process its own log; without ``%d`` all append whole lines to one file). An
    ``execve`` keeps the plugins loaded, with their state: translated code is flushed
    (``qemu_plugin_flush``), then this event names the program that runs now, before
    its first instruction, so that a coverage tool can list each image as a module.

    :param path: the program's path as the guest gave it (a ``#!`` script's interpreter
        when a script was exec'd).
    :param argv: its arguments, ``argv[0]`` first.
    :param arch: its QEMU target name (``x86_64``, ``aarch64``, ``arm``, ...): an exec
        may change the architecture.
    :param load_bias: what was added to the ELF's addresses (non-zero for PIE).
    :param entry: the address of its first instruction (the dynamic linker's, if any).
    """


@hookspec
def qpp_signal_delivered(vcpu_index: int, signum: int, handler: int, pc: int) -> None:
    """A guest signal handler is about to run (qpp's own event; QEMU has none).

    Called when qpp has written the kernel's signal frame on the guest stack and set the
    CPU to enter the handler, before its first instruction: at the end of a system call,
    at a faulting instruction, or at a block boundary (timers, host signals).

    :param vcpu_index: the guest thread that takes the signal.
    :param signum: the guest's signal number, in its architecture's numbering.
    :param handler: the handler's address.
    :param pc: where the interrupted code resumes when the handler returns (the pc saved
        in the frame's ``uc_mcontext``; a handler may change it).
    """


@hookspec
def qpp_signal_returned(vcpu_index: int, pc: int) -> None:
    """A guest signal handler returned through ``sigreturn``/``rt_sigreturn``.

    A handler that leaves by ``siglongjmp`` never returns, so plugins see a delivery
    without its return, as the kernel does.

    :param vcpu_index: the guest thread.
    :param pc: where the guest resumes: the pc of the frame it returned through.
    """


@hookspec
def qemu_plugin_atexit() -> None:
    """The run is over (``qemu_plugin_register_atexit_cb``): print results, write files.

    Runs after the guest exited, crashed or was stopped by a plugin error, newest-loaded
    plugin first; an exception here is reported for its plugin and the others still run.
    """


@hookspec
def qpp_batch_result() -> object:
    """This run's result as data, for ``qpp batch`` (qpp's own event; QEMU has none).

    Called once per job, in the job's process, after every atexit callback ran and while
    the plugin's state is still there. Return JSON-serialisable data (dicts with string
    keys, lists, numbers, strings, booleans, ``None``): ``qpp batch`` stores it in the
    job's record and later hands it to :func:`qpp_batch_merge` with the other jobs' data.
    A dict with an integer ``"insns"`` entry gives the job record its instruction count.
    Not called in a guest fork's child processes (a batch job is its first process).
    An exception marks the job ``plugin-error``.
    """


@hookspec
def qpp_batch_merge(results: list[tuple[str, object]], directory: str) -> object:
    """Merge the data many runs' :func:`qpp_batch_result` gave (``qpp batch``).

    Called once per batch, in the batch's own process (no guest, no session: only plain
    Python here), with the plugin's data of every job that has some, in job order.

    :param results: ``(job id, data)`` pairs, in the order the jobs were listed; merge in
        this order so that the result does not depend on which job finished first.
    :param directory: a folder the plugin may write merged files to (``drcov`` writes
        one coverage file there); name them after the plugin.
    :return: JSON-serialisable merged data, written to ``DIRECTORY/<plugin>.json`` and
        summarised in the batch's ``summary.json``.
    """
