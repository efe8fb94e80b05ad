#!/usr/bin/env bash
# Rebuild the test-only guests of tests/linux.  They live here rather than in
# qpp_core/guests because they serve only these tests:
#   cpuid.x86_64   static (musl-tools); CPUID leaves, x86_64 only
#   dyn.<arch>     dynamically linked against each target's glibc (gcc and Debian's
#                  gcc-{aarch64,arm,riscv64,mipsel}-linux-gnu*), run with -L SYSROOT
#   dyn-nopie.<arch>  the same, linked at a fixed address (ET_EXEC)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LC_ALL=C SOURCE_DATE_EPOCH=0
cd "$HERE"
FLAGS=(-O2 -s -Wall -Wextra -fno-ident "-ffile-prefix-map=$HERE=." -Wl,--build-id=none)
musl-gcc "${FLAGS[@]}" -static -o cpuid.x86_64 cpuid.c
for pair in x86_64:gcc aarch64:aarch64-linux-gnu-gcc arm:arm-linux-gnueabihf-gcc \
    riscv64:riscv64-linux-gnu-gcc mipsel:mipsel-linux-gnu-gcc; do
    "${pair#*:}" "${FLAGS[@]}" -o "dyn.${pair%%:*}" dyn.c
    "${pair#*:}" "${FLAGS[@]}" -no-pie -o "dyn-nopie.${pair%%:*}" dyn.c
done
sha256sum cpuid.x86_64 dyn.*[!c] dyn-nopie.*
