/*
 * runcli: running a command-line program (the gridbus CLI, gridbus-gen) as a child process,
 * as a user would, for the end-to-end tests.
 *
 * Its stdin and outputs go through temp files rather than pipes, so a test cannot deadlock
 * on a full pipe; every wait has a hang guard (a pidfd polled with a timeout, then kill -9).
 * Kept free of Criterion like gbtest: helpers return -1 (or NULL) on failure with the reason
 * in runcli_why(), and the calling test asserts.
 */
#ifndef GB_TEST_RUNCLI_H
#define GB_TEST_RUNCLI_H

#include <stdio.h>
#include <sys/types.h>

/* Hang guard of one CLI run, in milliseconds. */
#define RUNCLI_WAIT_MS 60000

typedef struct {
    int status; /* exit status, 128+signal when killed */
    char *out, *err;
} run_t;

/* The reason the last helper failed. */
const char *runcli_why(void);

/* Frees the outputs of r. */
void run_free(run_t *r);

/* $var if set, else fallback: where a program under test is. */
const char *runcli_bin(const char *var, const char *fallback);

/* The whole of f (read from its start) as a string, or NULL. */
char *runcli_slurp(FILE *f);

/* Starts bin head... args... (both NULL-terminated, head may be NULL) with stdin from in
 * (NULL: /dev/null) and outputs on out and err; the child's pid, or -1. */
pid_t runcli_spawn(FILE *in, FILE *out, FILE *err, const char *bin, const char *const *head,
                   const char *const *args);

/* Waits for pid within wait_ms (kill -9 after): its exit status (128+signal when killed),
 * or -1 when it had to be killed or could not be waited for. */
int runcli_wait(pid_t pid, int wait_ms);

/* Runs bin head... args... with stdin_text (may be NULL) within wait_ms and fills r with its
 * exit status and outputs (free them with run_free); 0, or -1 with r holding nothing. */
int runcli(run_t *r, const char *stdin_text, const char *bin, const char *const *head,
           const char *const *args, int wait_ms);

/* Waits (inotify, with the hang guard) until the file at path holds n lines: 0, or -1. */
int runcli_wait_lines(const char *path, size_t n);

#endif
