#!/usr/bin/env bash
# Rebuild qpp's guest programs from src/ into bin/<prog>.<arch>.
#
# Usage: ./build.sh [PROG...]      (default: hello probe compute memloop)
#
# Needs Debian's cross toolchains: musl-tools (x86_64, via musl-gcc), gcc
# (hello.x86_64-glibc), gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf,
# gcc-riscv64-linux-gnu, gcc-mipsel-linux-gnu.  Every binary is static.
# hello/probe are stripped; compute/memloop keep their symbols because
# plugins look symbols up.  Flags aim at reproducible output: no build-id,
# source paths mapped to ".", no .comment section.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/src"
BIN="$HERE/bin"
mkdir -p "$BIN"

ARCHES=(x86_64 aarch64 arm riscv64 mipsel)
PROGS=("$@")
if [ ${#PROGS[@]} -eq 0 ]; then
    PROGS=(hello probe compute memloop)
fi

export LC_ALL=C SOURCE_DATE_EPOCH=0
COMMON=(-O2 -static -Wall -Wextra -fno-ident "-ffile-prefix-map=$SRC=." -Wl,--build-id=none)

cc_for() {
    case "$1" in
        x86_64) echo musl-gcc ;;
        aarch64) echo aarch64-linux-gnu-gcc ;;
        arm) echo arm-linux-gnueabihf-gcc ;;
        riscv64) echo riscv64-linux-gnu-gcc ;;
        mipsel) echo mipsel-linux-gnu-gcc ;;
        *) echo "unknown arch $1" >&2; return 1 ;;
    esac
}

# build PROG ARCH CC OUT [extra flags...]
build() {
    local prog="$1" arch="$2" cc="$3" out="$4"
    shift 4
    local flags=("${COMMON[@]}" "$@")
    case "$prog" in
        hello | probe) flags+=(-s) ;;
        memloop)
            # No libc: _start and the loop are inline asm (see memloop.c).
            flags+=(-nostdlib -no-pie -fno-pie -fno-asynchronous-unwind-tables -Wl,-e,_start)
            case "$arch" in
                riscv64) flags+=(-mno-relax) ;;
                mipsel) flags+=(-mno-abicalls -fno-pic) ;;
            esac
            ;;
    esac
    (cd "$SRC" && "$cc" "${flags[@]}" -o "$out" "$prog.c")
    echo "built $(basename "$out")"
}

for prog in "${PROGS[@]}"; do
    [ -f "$SRC/$prog.c" ] || { echo "no source $SRC/$prog.c" >&2; exit 1; }
    for arch in "${ARCHES[@]}"; do
        build "$prog" "$arch" "$(cc_for "$arch")" "$BIN/$prog.$arch"
    done
    if [ "$prog" = hello ]; then
        # The same hello linked against glibc, for loaders that want glibc's start-up.
        build hello x86_64 gcc "$BIN/hello.x86_64-glibc"
    fi
done

(cd "$BIN" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | sort \
    | xargs sha256sum > SHA256SUMS)
echo
echo "bin/ contents:"
(cd "$BIN" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\t%s\n' | sort \
    | awk -F'\t' '{ printf "  %-24s %9d bytes\n", $1, $2 }')
