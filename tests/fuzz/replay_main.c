/*
 * replay_main: runs a fuzz target over files without libFuzzer, so `make check` can replay
 * the checked-in corpus with any C compiler (gcc included) under ASan and UBSan.
 *
 * Linked with one target (fuzz_wire.c or fuzz_request.c): calls its LLVMFuzzerInitialize
 * once, then LLVMFuzzerTestOneInput on the bytes of each file argument, in order, in this
 * one process (state carries over between files, as in a libFuzzer run). Prints one line
 * per file; a broken invariant or a sanitizer report aborts the process, naming the file
 * last printed as "RUN".
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

/* Reads all of path into a malloc'ed buffer of exactly its size (so ASan sees over-reads). */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc(n ? (size_t)n : 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)n : 0;
    return buf;
}

int main(int argc, char **argv)
{
    int bad = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        size_t len;
        unsigned char *buf = read_file(argv[i], &len);
        if (!buf) {
            fprintf(stderr, "replay: %s: cannot read\n", argv[i]);
            bad++;
            continue;
        }
        printf("RUN %s (%zu bytes)\n", argv[i], len);
        fflush(stdout);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        printf("OK  %s\n", argv[i]);
    }
    return bad ? 1 : 0;
}
