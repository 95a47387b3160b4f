/*
 * fuzz: the entry points every fuzz target defines, as libFuzzer calls them.
 *
 * Declared here so the targets build warning-free under -Wall -Wextra -Werror with clang
 * (libFuzzer) and with gcc (replay_main.c, the corpus replay driver of `make check`).
 */
#ifndef GB_FUZZ_H
#define GB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Called once before the first input; may read and change argv. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Runs one input; returns 0. A broken invariant calls abort(). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message naming the invariant when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: invariant broken at %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
