#!/bin/sh
# Reproduce tests/thirdparty/bin/busybox.<arch> from Debian's archive.
#
# Downloads Debian's busybox-static .deb for each of the five targets, checks the
# .deb's sha256 (from the archive's Packages index), extracts the busybox binary with
# dpkg-deb and checks the binary's sha256 against the one committed here.
# trixie (1:1.37.0-6+b9) for four targets; mipsel was dropped in trixie, so
# bookworm's build (1:1.35.0-4+deb12u1+b1) for mipsel.
#
# Usage: tests/thirdparty/fetch.sh [OUTDIR]   (default: tests/thirdparty/bin)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/bin}
pool=http://deb.debian.org/debian/pool/main/b/busybox
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# qpp arch | .deb file | sha256 of the .deb | sha256 of bin/busybox
while read -r arch deb debsum binsum; do
    [ -n "$arch" ] || continue
    echo "fetch $deb"
    curl -fsS -o "$work/$deb" "$pool/$(printf %s "$deb" | sed 's/+/%2b/g')"
    echo "$debsum  $work/$deb" | sha256sum -c --quiet
    rm -rf "$work/x"
    dpkg-deb -x "$work/$deb" "$work/x"
    # bookworm installs /bin/busybox, trixie /usr/bin/busybox
    bin=$work/x/usr/bin/busybox
    [ -f "$bin" ] || bin=$work/x/bin/busybox
    echo "$binsum  $bin" | sha256sum -c --quiet
    cp "$bin" "$out/busybox.$arch"
    chmod 755 "$out/busybox.$arch"
done <<'TABLE'
x86_64  busybox-static_1.37.0-6+b9_amd64.deb           598a3fd92bdafc34cd81196b2952ad36e910e47a4ecf162f8ce5e8e262598e53 7ae95c260622412ceba6eb9f45d68f616cdc091a1d71d6c0a08b5875bb2c31dd
aarch64 busybox-static_1.37.0-6+b9_arm64.deb           c833be48abfa16bc19c4966ec93e289ff1ce5d2f1476cad3a57bd105378cd15c 7d93682be37cf6ed46699f6fff546b80bf133cf8ec342c2d04bc23387f78bc34
arm     busybox-static_1.37.0-6+b9_armhf.deb           8b35210e08d559ecc0ddb660dd96f6f9694f69eb27f1dc608f5eeda56d94509e 0a58280553462be5d8064f510a8abceef2610fb549d82f52027bcfc9cbdf9d1d
riscv64 busybox-static_1.37.0-6+b9_riscv64.deb         4add476d2b185c5b487c285b38d790f0881a7e4a8e2ddde835f917e770eb8633 659d3048d0849dcd03308ece5214c896f657dde1c76ab7a30e9727e3ed8d309b
mipsel  busybox-static_1.35.0-4+deb12u1+b1_mipsel.deb  3d154a0681a75938b7c27f2bd40625852d37471fb768c98ea3c98019111d1352 b273e6e65483b7d68b684e951fb5498afb191f1d3c8fa637abd944b12e3169d0
TABLE
echo "ok: busybox.{x86_64,aarch64,arm,riscv64,mipsel} in $out"
