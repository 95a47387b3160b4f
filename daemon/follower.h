/*
 * follower: a thread that follows the task feed's committed head, the part the indexer
 * (taskidx) and the live feed (taskpub) share: the head to follow, handed over under one
 * mutex with a condition for work and one for what is done, both on CLOCK_MONOTONIC so a
 * timed wait survives the wall clock being set; start, and stop with join.
 *
 * The fields are the owner's to read and write under lock; the owner's thread function
 * waits on `work` and broadcasts `done`.
 */
#ifndef GB_FOLLOWER_H
#define GB_FOLLOWER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    uint64_t target; /* the committed head to follow */
    bool stop;       /* set by follower_stop: the thread returns */
    bool started;
    pthread_t thread;
} follower_t;

/* The lock and conditions, target = head. */
void follower_init(follower_t *f, uint64_t head);
/* Starts fn(arg) as the thread; 0, or -1 when it cannot be started. */
int follower_start(follower_t *f, void *(*fn)(void *), void *arg);
/* Stops and joins the thread (if started), then frees the lock and conditions. */
void follower_destroy(follower_t *f);

/* The committed head is now head: wakes the thread when it moved. */
void follower_follow(follower_t *f, uint64_t head);

/* CLOCK_MONOTONIC now plus ms, for timed waits on work and done. */
struct timespec follower_in(long ms);

#endif
