#!/usr/bin/env bash
# Rebuild the test-only guests of tests/linux (needs musl-tools).  They live here rather
# than in qpp_core/guests because they serve only these tests (cpuid: x86_64 only).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LC_ALL=C SOURCE_DATE_EPOCH=0
cd "$HERE"
musl-gcc -O2 -static -s -Wall -Wextra -fno-ident "-ffile-prefix-map=$HERE=." \
    -Wl,--build-id=none -o cpuid.x86_64 cpuid.c
sha256sum cpuid.x86_64
