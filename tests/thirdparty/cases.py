"""The busybox and bash commands run on qemu-user (record.py) and on qpp (test_thirdparty.py).

Each case is one guest process: ``busybox ARGV...`` or ``bash ARGV...`` (Debian's static
builds, see README.md) started in ``data/`` with an empty environment (or the case's
``env``), its stdin a file of ``data/`` (or /dev/null). Commands that start other
processes (fork, vfork, pipes, exec chains: busybox runs its applets through
/proc/self/exe) are flagged ``needs_fork``; record.py runs those with binfmt-like
wrappers in PATH (see README.md). Everything a case reads is committed in ``data/``;
nothing is written outside the guest's stdout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
BIN_DIR = HERE / "bin"
EXPECTED = HERE / "expected.tsv"
ARCHES = ("x86_64", "aarch64", "arm", "riscv64", "mipsel")


@dataclass(frozen=True)
class Case:
    """One command line of ``program``; ``stdin`` names a file in data/ (None: /dev/null)."""

    name: str
    argv: tuple[str, ...]
    stdin: str | None = None
    needs_fork: bool = False
    program: str = "busybox"
    env: tuple[tuple[str, str], ...] = ()  # the guest's whole environment

    def binary(self, arch: str) -> Path:
        """The committed Debian binary of this case's program for ``arch``."""
        return BIN_DIR / f"{self.program}.{arch}"


def _sh(name: str, script: str, stdin: str | None = None, needs_fork: bool = False) -> Case:
    return Case(name, ("sh", "-c", script), stdin, needs_fork)


AWK_BY_TEAM = (
    "NR > 1 { s[$2] += $3; n[$2]++ }"
    ' END { k = split("red blue green", team, " ");'
    ' for (i = 1; i <= k; i++) { t = team[i]; printf "%s %d %.3f\\n", t, s[t], s[t] / n[t] } }'
)
AWK_PRIMES = (
    "BEGIN { for (n = 2; n < 1500; n++) { p = 1;"
    " for (d = 2; d * d <= n; d++) if (n % d == 0) { p = 0; break }"
    " if (p) { c++; last = n } } print c, last }"
)
SH_LOOP = "i=0; s=0; while [ $i -lt 1000 ]; do s=$((s + i * i % 97)); i=$((i + 1)); done; echo $s"

CASES: tuple[Case, ...] = (
    # --- the shell (ash): builtins, expansions, control flow, in one process
    _sh("sh_for_arith", "for i in 1 2 3; do echo $i; done; x=$((6*7)); echo $x"),
    _sh("sh_function", 'f() { echo "f:$1:$#"; return 3; }; f a b; echo st=$?'),
    _sh(
        "sh_case",
        'for w in apple 42 x-y ""; do case $w in [0-9]*) echo num;; *-*) echo dash;;'
        ' "") echo empty;; *) echo word:$w;; esac; done',
    ),
    _sh("sh_while_read", 'n=0; while read -r a b; do n=$((n+1)); echo "$n $a"; done < poem.txt'),
    _sh(
        "sh_read_stdin",
        'IFS=, read -r a b c; echo "[$c|$a]"; read x; echo "${x%%,*}"',
        "scores.csv",
    ),
    _sh("sh_params", "v=hello.tar.gz; echo ${v%%.*} ${v#*.} ${#v} ${u:-dflt} ${v/tar/TAR}"),
    _sh("sh_exit_status", 'set -- a b c; shift; echo "$@" $#; exit 7'),
    # /proc/self/cmdline is the guest's (argv[0], the binary's path, is machine-specific)
    _sh(
        "sh_proc_cmdline",
        'tr "\\0" "\\n" < /proc/self/cmdline | tail -n +2',
        needs_fork=True,
    ),
    # links and file times in a fresh directory (TZ is unset: UTC)
    _sh(
        "sh_links_times",
        "d=$(mktemp -d) && cd $d && touch a && touch -d '2021-02-03 04:05:06' a && ln a b"
        " && ln -s a c && readlink c && [ a -ef b ] && echo same; truncate -s 10 a; wc -c < a;"
        " touch -d '2021-02-03 04:05:06' a; cp -p a d; date -r d +%F.%T; touch -r a e;"
        " date -r e +%F.%T; touch -h -d '2019-01-01 01:02:03' c; stat -c %Y c; ls; cd /;"
        " rm -r $d",
        needs_fork=True,
    ),
    # resource limits: set, then read back (mips numbers NOFILE its own way); only limits
    # the case set itself are printed, the host's differ from machine to machine
    _sh(
        "sh_ulimit",
        "ulimit -n 256 && ulimit -n; ulimit -H -n; ulimit -S -n 100; ulimit -n;"
        " ulimit -S -t 1000 && ulimit -t; ulimit -S -c 0; ulimit -c",
    ),
    _sh(
        "sh_printf_test",
        'printf "%05d|%-4s|%x\\n" 42 ab 255;'
        " [ -f poem.txt ] && ! [ -d poem.txt ] && test 3 -lt 10 && echo yes",
    ),
    _sh("sh_loop_work", SH_LOOP),
    # cat and wc are not NOFORK applets in this build: ash runs them in a child
    _sh("sh_heredoc", "cat <<EOF\nhere $((1+1)) ${HOME:-nohome}\nEOF", needs_fork=True),
    _sh("sh_runs_applet", "echo start; wc -l poem.txt; echo end", needs_fork=True),
    _sh("sh_fd_dup", "exec 3>&1; echo to3 >&3; echo gone >/dev/null; echo back"),
    _sh("sh_pipe", "echo abc | tr a-c x-z", needs_fork=True),
    _sh("sh_command_subst", 'echo "n=$(echo sub)"', needs_fork=True),
    # --- processes: subshells, lists, background jobs, pipelines, exec chains
    _sh("sh_subshell_status", "(echo in; exit 3); echo st=$?", needs_fork=True),
    _sh("sh_and_or", "false || echo or; true && echo and; false && echo no; echo end"),
    _sh(
        "sh_background_wait",
        "(exit 5) & wait $!; echo st=$?; sleep 0 & wait; echo done",
        needs_fork=True,
    ),
    _sh("sh_pipeline3", "printf 'b\\na\\nc\\n' | sort | tr a-z A-Z", needs_fork=True),
    _sh("sh_redirect_pipe", "{ echo err >&2; echo out; } 2>&1 | wc -l", needs_fork=True),
    _sh(
        "sh_exec_chain",
        "exec busybox sh -c 'echo level2; exec busybox echo level3'",
        needs_fork=True,
    ),
    _sh(
        "sh_child_status",
        "sh -c 'exit 7'; echo st=$?; sh -c 'kill -9 $$'; echo killed=$?",
        needs_fork=True,
    ),
    _sh(
        "sh_exec_keeps_ignored",
        "trap '' USR1; exec busybox sh -c 'kill -USR1 $$; echo survived'",
        needs_fork=True,
    ),
    _sh("sh_nested_subst", "echo $(echo a $(echo b)) \"$(printf '%s-' x y z)\"", needs_fork=True),
    # --- text tools
    Case("awk_by_team", ("awk", "-F,", AWK_BY_TEAM, "scores.csv")),
    Case("awk_primes", ("awk", AWK_PRIMES)),
    Case(
        "awk_format",
        ("awk", '{ printf "%-6s %3d %6.2f\\n", $1, length($0), length($0) / 7 }', "poem.txt"),
    ),
    Case("sed_subst", ("sed", "-n", "s/the/THE/gp", "poem.txt")),
    Case("sed_script", ("sed", "-e", "1d;$d", "-e", r"s/\([a-z]*\)\.$/<\1>/", "poem.txt")),
    Case("grep_count", ("grep", "-c", "the", "poem.txt")),
    Case("grep_regex", ("grep", "-n", "-i", "-E", "^(the|a) ", "poem.txt")),
    Case("grep_nomatch", ("grep", "zebra", "poem.txt")),
    Case("sort_numeric", ("sort", "-n", "numbers.txt")),
    Case("sort_key", ("sort", "-t,", "-k3,3nr", "scores.csv")),
    Case("uniq_count", ("uniq", "-c", "fruit.txt")),
    Case("tr_upper", ("tr", "a-z", "A-Z"), "poem.txt"),
    Case("tr_squeeze_delete", ("tr", "-d", "aeiou"), "poem.txt"),
    Case("wc_files", ("wc", "poem.txt", "scores.csv", "numbers.txt")),
    Case("cut_fields", ("cut", "-d,", "-f1,3", "scores.csv")),
    Case("od_chars", ("od", "-c", "-N", "48", "poem.txt")),
    Case("md5sum", ("md5sum", "poem.txt", "scores.csv")),
    Case("sha256sum", ("sha256sum", "poem.txt", "numbers.txt")),
    Case("expr_arith", ("expr", "7", "*", "6", "+", "1")),
    Case("expr_false", ("expr", "3", "<", "2")),
    Case("seq_step", ("seq", "-s,", "1", "3", "40")),
    Case("printf_formats", ("printf", "%s=%d %o %x %.3f\\n", "a", "10", "8", "255", "3.14159")),
    Case("factor", ("factor", "1", "60", "97", "1234567", "4294967297")),
    Case("dc_calc", ("dc", "-e", "2 64 ^ p 10 k 2 v p 17 3 % p")),
    Case("bc_stdin", ("bc", "-l"), "calc.bc"),
    Case("rev", ("rev", "poem.txt")),
    Case("tail_lines", ("tail", "-n", "3", "poem.txt")),
    # --- archive and compression tools
    Case("gzip_stdin", ("gzip", "-9", "-c"), "poem.txt"),
    Case("gunzip_c", ("gunzip", "-c", "poem.txt.gz")),
    # zcat and tar -z run the decompressor in a forked child behind a pipe
    Case("zcat_tar", ("zcat", "sample.tar.gz"), needs_fork=True),
    Case("bzip2_stdin", ("bzip2", "-c"), "poem.txt"),
    Case("bzip2_dc", ("bzip2", "-dc", "poem.txt.bz2")),
    Case("xzcat", ("xzcat", "poem.txt.xz")),
    # tar -v prints local times: TZ keeps the host's /etc/localtime out of it
    Case("tar_list", ("tar", "-tvf", "sample.tar"), env=(("TZ", "UTC0"),)),
    Case("tar_extract_stdout", ("tar", "-xOf", "sample.tar", "docs/scores.csv")),
    Case("tar_gz_list", ("tar", "-tzf", "sample.tar.gz"), needs_fork=True),
)

BASH_FIB = (
    "fib() { local n=$1 a; if ((n < 2)); then r=$n; return; fi;"
    " fib $((n - 1)); a=$r; fib $((n - 2)); r=$((a + r)); }; fib 12; echo $r"
)


# SHLVL=1 (bash makes it 2): bash then skips its "stdin is a network connection" check's
# consequence, sourcing bash.bashrc and ~/.bashrc (bash_netconn_check keeps the empty env).
SHLVL = (("SHLVL", "1"),)


def _bash(name: str, script: str, needs_fork: bool = False) -> Case:
    return Case(name, ("-c", script), None, needs_fork, "bash", SHLVL)


CASES += (
    # --- bash (bash-static): builtins only, one process
    _bash(
        "bash_arrays",
        'declare -A m=([a]=1 [b]=2); arr=(x y z); for i in "${!arr[@]}"; do'
        ' printf "%s=%s " $i "${arr[i]}"; done; echo "${m[b]} ${#arr[@]} ${arr[*]: -2}"',
    ),
    _bash(
        "bash_arith_loop", "s=0; for ((i = 0; i < 1500; i++)); do ((s += i * i % 7)); done; echo $s"
    ),
    _bash(
        "bash_strings",
        "x=HeLLo; echo ${x,,} ${x^^} ${x:1:3} ${x//L/l};"
        ' [[ "v1.22.3" =~ ^v([0-9]+)\\.([0-9]+) ]] && echo "${BASH_REMATCH[2]}"',
    ),
    _bash("bash_printf_v", "printf -v v '%08.3f|%q' 3.14159 'a b'; echo \"$v\"; echo ${#v}"),
    _bash("bash_read_file", 'while IFS=, read -r n t s g; do echo "$t:$n"; done < scores.csv'),
    _bash("bash_mapfile", 'mapfile -t l < poem.txt; echo ${#l[@]} "${l[2]}"'),
    _bash("bash_function_recursion", BASH_FIB),
    _bash("bash_exit_trap", "trap 'echo bye' EXIT; echo hi; exit 3"),
    _bash("bash_herestring", 'read -r a b <<< "one two three"; echo "$b/$a"'),
    _bash("bash_pipe", "echo abc | { read x; echo ${x^}; }", needs_fork=True),
    Case("bash_netconn_check", ("-c", "echo $SHLVL"), program="bash"),
)

BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
