# common.sh: what the fuzz scripts (run, replay) share: the targets, the sources each one
# links, and how to build them. Sourced, not run; the caller has cd'ed to the repository root.
#
# fuzz_wire links proto/ alone. fuzz_request links proto/ and daemon/ without main.c: the
# request path, the case loop and the task feed (a PUB socket bound nowhere); ingest.c and
# zwatch.c come along unused, so a new daemon file needs no edit here.

FUZZ_TARGETS_ALL="wire request"
FUZZ_PKGS="libevent libzmq msgpack lmdb libfyaml jansson libsystemd"
FUZZ_WARN="-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers"
FUZZ_DEFS="-D_GNU_SOURCE -DGB_VERSION=\"fuzz\""

# The C sources of target $1 (wire or request), its own file first.
fuzz_sources() {
    case "$1" in
    wire) echo tests/fuzz/fuzz_wire.c proto/*.c ;;
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

# fuzz_build TARGET OUT COMPILER EXTRA_FLAGS [EXTRA_SOURCES...]: builds OUT when stale.
fuzz_build() {
    local target=$1 out=$2 cc=$3 flags=$4 srcs
    shift 4
    srcs="$(fuzz_sources "$target") $*" || return 1
    # shellcheck disable=SC2086
    fuzz_stale "$out" $srcs || return 0
    mkdir -p "$(dirname "$out")"
    echo "  FUZZ-CC $out"
    # shellcheck disable=SC2086
    $cc -g -O1 -fno-omit-frame-pointer $flags $FUZZ_WARN $FUZZ_DEFS -Iproto -Idaemon -Itests/fuzz \
        $(pkg-config --cflags $FUZZ_PKGS) -o "$out" $srcs $(pkg-config --libs $FUZZ_PKGS) -lm
}
