/*
 * feed: a PUB socket that publishes a stream's records only after the transaction that
 * stored them has committed, plus a heartbeat carrying the stream's head.
 *
 * Records are queued while a batch runs and sent by feed_flush after the commit (or
 * dropped by feed_discard when the batch is aborted and run again), so a subscriber never
 * sees a record the store does not have. PUB may still drop under its high-water mark;
 * the heartbeat's head lets a subscriber notice the gap within a second and repair it by
 * replay.
 */
#ifndef GB_FEED_H
#define GB_FEED_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

typedef struct feed feed_t;

/* How often a feed's heartbeat goes out (the task feed's thread keeps the same beat). */
#define FEED_HEARTBEAT_MS 1000

/* The stream's committed head, for the heartbeat. */
typedef uint64_t (*feed_head_fn)(void *arg);

/* stream: "tasks"; the heartbeat topic is "hb/<stream>". */
feed_t *feed_new(struct event_base *base, void *pub, const char *stream, feed_head_fn head,
                 void *arg);
void feed_destroy(feed_t **self_p);

/* Queues one record under topic (copied). */
int feed_queue(feed_t *self, const char *topic, const void *rec, size_t len);

/* Sends what is queued (after the commit); drops it (after an abort). */
void feed_flush(feed_t *self);
void feed_discard(feed_t *self);

/* Sends a heartbeat now (also sent every second by itself). */
void feed_heartbeat(feed_t *self);

/* The sends themselves, for a stream published by another thread (the task feed: taskidx):
 * one record as [topic][record]; a heartbeat of stream with its head on "hb/<stream>". */
void feed_send(void *pub, const void *topic, size_t topic_len, const void *rec, size_t len);
void feed_send_heartbeat(void *pub, const char *stream, uint64_t head);

#endif
