"""A tiny qemu-user TCG plugin counting guest instructions with one inline add each, as
QEMU's tests/plugin/insn.c with ``inline=on`` (QEMU 7.2's plugin API; Debian ships no
``qemu-plugin.h``, so the few declarations are written out). Built with gcc by the
benchmarks and by the scripts that record qemu-user's counts for the tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = r"""
/* Counts guest instructions with one inline add each (QEMU 7.2 plugin API). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t, void *);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t i);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr,
                                                uint64_t imm);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);
void qemu_plugin_outs(const char *string);
__attribute__((visibility("default"))) int qemu_plugin_version = 1;
static uint64_t count;
static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++)
        qemu_plugin_register_vcpu_insn_exec_inline(qemu_plugin_tb_get_insn(tb, i),
                                                   QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
}
static void at_exit(qemu_plugin_id_t id, void *userdata) {
    char line[64];
    snprintf(line, sizeof line, "total insns: %llu\n", (unsigned long long)count);
    qemu_plugin_outs(line);
}
__attribute__((visibility("default"))) int qemu_plugin_install(
    qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
"""


def build(directory: Path) -> str | None:
    """Compile the plugin into ``directory``; its path, or ``None`` without gcc."""
    if not shutil.which("gcc"):
        return None
    src = directory / "insncount.c"
    src.write_text(SOURCE)
    lib = directory / "libinsncount.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(lib), str(src)], check=True)
    return str(lib)
