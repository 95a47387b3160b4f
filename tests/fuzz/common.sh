# common.sh: what the fuzz scripts (run, replay) share: the targets, the sources each one
# links, and how to build them. Sourced, not run; the caller has cd'ed to the repository root.
#
# fuzz_wire links proto/ alone; fuzz_taskrec proto/ and the stored task records' codec
# (daemon/taskrec.c, task.c). fuzz_request links proto/ and daemon/ without main.c: the
# request path, the case loop and the task feed (a PUB socket bound nowhere); ingest.c and
# zwatch.c come along unused, so a new daemon file needs no edit here.

FUZZ_TARGETS_ALL="wire request taskrec"
FUZZ_PKGS="libevent libzmq msgpack lmdb libfyaml jansson libsystemd"
FUZZ_WARN="-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers"
FUZZ_DEFS="-D_GNU_SOURCE -DGB_VERSION=\"fuzz\""

# The C sources of target $1 (wire or request), its own file first.
fuzz_sources() {
    case "$1" in
    wire) echo tests/fuzz/fuzz_wire.c proto/*.c ;;
    taskrec) echo tests/fuzz/fuzz_taskrec.c proto/*.c daemon/taskrec.c daemon/task.c ;;
    request)
        echo tests/fuzz/fuzz_request.c proto/*.c $(ls daemon/*.c | grep -v '^daemon/main\.c$')
        ;;
    *) echo "unknown fuzz target '$1' (known: $FUZZ_TARGETS_ALL)" >&2; return 1 ;;
    esac
}

# True when binary $1 is missing or older than any source or header it is built from.
fuzz_stale() {
    local bin=$1
    shift
    [ -x "$bin" ] || return 0
    [ -n "$(find "$@" tests/fuzz/fuzz.h proto daemon -newer "$bin" \( -name '*.c' -o -name '*.h' \) \
        -print -quit 2>/dev/null)" ]
}

# Compiles the sources given into objects under objdir, as many at once as there are CPUs.
fuzz_compile() {
    local cc=$1 flags=$2 objdir=$3 jobs running=0 failed=0 src
    shift 3
    jobs=$(nproc 2>/dev/null || echo 2)
    for src in "$@"; do
        if [ "$running" -ge "$jobs" ]; then
            wait -n || failed=1
            running=$((running - 1))
        fi
        # shellcheck disable=SC2086
        $cc $flags $FUZZ_WARN $FUZZ_DEFS -Iproto -Idaemon -Itests/fuzz \
            $(pkg-config --cflags $FUZZ_PKGS) -c "$src" -o "$objdir/$(echo "${src%.c}" | tr / _).o" &
        running=$((running + 1))
    done
    while [ "$running" -gt 0 ]; do
        wait -n || failed=1
        running=$((running - 1))
    done
    return $failed
}

# fuzz_build TARGET OUT COMPILER FLAGS [EXTRA_SOURCES...]: builds OUT when stale. FLAGS
# (optimisation, sanitizers, fuzzer) are used to compile and to link.
fuzz_build() {
    local target=$1 out=$2 cc=$3 flags=$4 srcs
    shift 4
    srcs="$(fuzz_sources "$target") $*" || return 1
    # shellcheck disable=SC2086
    fuzz_stale "$out" $srcs || return 0
    echo "  FUZZ-CC $out"
    rm -rf "$out.obj"
    mkdir -p "$out.obj"
    # shellcheck disable=SC2086
    fuzz_compile "$cc" "-g -fno-omit-frame-pointer $flags" "$out.obj" $srcs &&
        $cc $flags -o "$out" "$out.obj"/*.o $(pkg-config --libs $FUZZ_PKGS) -lm
}
