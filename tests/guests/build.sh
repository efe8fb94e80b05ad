#!/usr/bin/env bash
# Build the test-only guest programs: tests/guests/src/NAME.c -> tests/guests/bin/NAME.ARCH
#
# Usage: ./build.sh [NAME...]      (default: every src/*.c)
#
# Every program is static, for the five targets: x86_64 with musl-gcc (musl-tools), the
# others with Debian's glibc cross compilers (gcc-aarch64-linux-gnu,
# gcc-arm-linux-gnueabihf, gcc-riscv64-linux-gnu, gcc-mipsel-linux-gnu).  A source that
# starts with the line `// glibc-x86_64` is also built as NAME.x86_64-glibc with gcc.
# The binaries are committed: tests must not need a toolchain.
# Expected outputs, where a test compares with qemu-user, are recorded by the tests' own
# helpers from qemu-ARCH runs and kept in tests/guests/expected/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/src"
BIN="$HERE/bin"
mkdir -p "$BIN"
export LC_ALL=C SOURCE_DATE_EPOCH=0
FLAGS=(-O2 -static -s -Wall -Wextra -fno-ident "-ffile-prefix-map=$SRC=." -Wl,--build-id=none)

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    shopt -s nullglob
    for f in "$SRC"/*.c; do names+=("$(basename "$f" .c)"); done
fi
for name in "${names[@]}"; do
    [ -f "$SRC/$name.c" ] || { echo "no source $SRC/$name.c" >&2; exit 1; }
    for pair in x86_64:musl-gcc aarch64:aarch64-linux-gnu-gcc arm:arm-linux-gnueabihf-gcc \
        riscv64:riscv64-linux-gnu-gcc mipsel:mipsel-linux-gnu-gcc; do
        (cd "$SRC" && "${pair#*:}" "${FLAGS[@]}" -o "$BIN/$name.${pair%%:*}" "$name.c" -lm)
    done
    if head -1 "$SRC/$name.c" | grep -q '^// glibc-x86_64'; then
        (cd "$SRC" && gcc "${FLAGS[@]}" -o "$BIN/$name.x86_64-glibc" "$name.c" -lm)
    fi
    echo "built $name"
done
