#!/bin/sh
# Reproduce tests/thirdparty/bin/{busybox,bash}.<arch> from Debian's archive.
#
# Downloads Debian's busybox-static and bash-static .debs for each of the five targets,
# checks each .deb's sha256 (from the archive's Packages index), extracts the program with
# dpkg-deb and checks the binary's sha256 against the one committed here.
# trixie for four targets; mipsel was dropped in trixie, so bookworm's builds for mipsel.
#
# Usage: tests/thirdparty/fetch.sh [OUTDIR]   (default: tests/thirdparty/bin)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/bin}
pool=http://deb.debian.org/debian/pool/main/b
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# name | source | path in the .deb (bookworm /bin, trixie /usr/bin) | qpp arch | .deb file |
# sha256 of the .deb | sha256 of the binary
while read -r name src path arch deb debsum binsum; do
    [ -n "$name" ] || continue
    echo "fetch $deb"
    curl -fsS -o "$work/$deb" "$pool/$src/$(printf %s "$deb" | sed 's/+/%2b/g')"
    echo "$debsum  $work/$deb" | sha256sum -c --quiet
    rm -rf "$work/x"
    dpkg-deb -x "$work/$deb" "$work/x"
    echo "$binsum  $work/x/$path" | sha256sum -c --quiet
    cp "$work/x/$path" "$out/$name.$arch"
    chmod 755 "$out/$name.$arch"
done <<'TABLE'
busybox busybox usr/bin/busybox     x86_64  busybox-static_1.37.0-6+b9_amd64.deb          598a3fd92bdafc34cd81196b2952ad36e910e47a4ecf162f8ce5e8e262598e53 7ae95c260622412ceba6eb9f45d68f616cdc091a1d71d6c0a08b5875bb2c31dd
busybox busybox usr/bin/busybox     aarch64 busybox-static_1.37.0-6+b9_arm64.deb          c833be48abfa16bc19c4966ec93e289ff1ce5d2f1476cad3a57bd105378cd15c 7d93682be37cf6ed46699f6fff546b80bf133cf8ec342c2d04bc23387f78bc34
busybox busybox usr/bin/busybox     arm     busybox-static_1.37.0-6+b9_armhf.deb          8b35210e08d559ecc0ddb660dd96f6f9694f69eb27f1dc608f5eeda56d94509e 0a58280553462be5d8064f510a8abceef2610fb549d82f52027bcfc9cbdf9d1d
busybox busybox usr/bin/busybox     riscv64 busybox-static_1.37.0-6+b9_riscv64.deb        4add476d2b185c5b487c285b38d790f0881a7e4a8e2ddde835f917e770eb8633 659d3048d0849dcd03308ece5214c896f657dde1c76ab7a30e9727e3ed8d309b
busybox busybox bin/busybox         mipsel  busybox-static_1.35.0-4+deb12u1+b1_mipsel.deb 3d154a0681a75938b7c27f2bd40625852d37471fb768c98ea3c98019111d1352 b273e6e65483b7d68b684e951fb5498afb191f1d3c8fa637abd944b12e3169d0
bash    bash    usr/bin/bash-static x86_64  bash-static_5.2.37-2+b10_amd64.deb            a8dfc61a50e70cdf2b790dcd9e1c45e2e42f396988e7fed1c45b1444df932953 b29716ef5ab57175680921243b7adc2a55455f21c02573989422064c852cfae7
bash    bash    usr/bin/bash-static aarch64 bash-static_5.2.37-2+b10_arm64.deb            7353d15a7160940496204ca38b6c00495995c389b4c3946d9b1f83b1b0b7a06e 10d70cce131059c38c6822f82136080624441ecd1bc549b525d283c7174ca796
bash    bash    usr/bin/bash-static arm     bash-static_5.2.37-2+b10_armhf.deb            00e55e2a4f44dfac6f0c899577281b829865106961955fc4d887b49971208597 4f01fcd1eb38fffcca51879f32640594aedb85ea6170ff22935313a61d92e8ba
bash    bash    usr/bin/bash-static riscv64 bash-static_5.2.37-2+b10_riscv64.deb          ff8de6539fb71827fb004de8b0907906ba9862bb66f2c8e11d599326489bf0ac 32358864673883f9e0e8aa3b70a7bd59fbdcdd756cd5a00eafca8368d79d59df
bash    bash    bin/bash-static     mipsel  bash-static_5.2.15-2+b13_mipsel.deb           d7e2f0d868771390b253730b496b0d60bf5d23326426cd95c1b7b6e9ba03d983 6cdc240869ab1efdc5e9badebb611867c99f175f870a06f47a8cb8bff772063c
TABLE
echo "ok: {busybox,bash}.{x86_64,aarch64,arm,riscv64,mipsel} in $out"
