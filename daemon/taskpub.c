/*
 * taskpub: see taskpub.h. The record's wire form is packed by taskrec_feed_wire, the packer
 * a replay uses, so a live record and a replayed one are the same bytes. The follower's
 * mutex and conditions (on CLOCK_MONOTONIC, for the heartbeat's second) hand over the head to
 * follow, the socket, and what was sent.
 */
#include "taskpub.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "feed.h"
#include "feedlog.h"
#include "follower.h"
#include "log.h"
#include "taskrec.h"

#define CHUNK 4096 /* records per read transaction at most */

struct taskpub {
    store_t *main;
    MDB_dbi feed;
    /* the thread's own */
    uint64_t sent;         /* the last seq sent (or the head at start) */
    long topics;           /* topics subscribed to, as the XPUB socket reports them */
    struct timespec hb_at; /* when the next heartbeat is due */
    void *pub_in_use;
    msgpack_sbuffer wire; /* one record's wire form */
    msgpack_zone zone;
    task_t *task;
    /* shared under f.lock, with f.target */
    follower_t f;
    bool busy; /* the thread is using pub */
    uint64_t done_upto;
    void *pub;
};

static bool reached(const struct timespec *at)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > at->tv_sec || (now.tv_sec == at->tv_sec && now.tv_nsec >= at->tv_nsec);
}

static int send_one(void *arg, uint64_t seq, const void *rec, size_t len)
{
    taskpub_t *self = arg;
    taskrec_change_t c;
    char topic[160];
    self->sent = seq; /* passed over when it cannot be sent: a replay will say why */
    if (taskrec_decode_feed(&self->zone, rec, len, &c, self->task) < 0) {
        log_error("msg=\"task feed record unreadable, not published\" seq=%llu",
                  (unsigned long long)seq);
        return 0;
    }
    taskrec_topic(self->task, topic, sizeof topic);
    if (taskrec_feed_wire(&self->wire, seq, topic, c.at, c.change, c.by, self->task) < 0) {
        log_error("msg=\"task feed record not published\" seq=%llu reason=\"out of memory\"",
                  (unsigned long long)seq);
        return 0;
    }
    feed_send(self->pub_in_use, topic, strlen(topic), self->wire.data, self->wire.size);
    return 0;
}

/* An XPUB socket hands up each topic's first subscription ("\x01topic") and the unsubscription
 * of its last subscriber ("\x00topic", also when a subscriber goes away); a PUB socket
 * reports nothing and is taken to have subscribers. */
static void read_subscriptions(taskpub_t *self)
{
    int type = 0;
    size_t len = sizeof type;
    unsigned char msg[1];
    if (zmq_getsockopt(self->pub_in_use, ZMQ_TYPE, &type, &len) < 0 || type != ZMQ_XPUB) {
        self->topics = 1;
        return;
    }
    while (zmq_recv(self->pub_in_use, msg, sizeof msg, ZMQ_DONTWAIT) >= 1)
        self->topics += msg[0] == 1 ? 1 : msg[0] == 0 && self->topics > 0 ? -1 : 0;
}

/* Sends the committed records up to upto; stops early when the feed cannot be read (the
 * heartbeat's head then lets subscribers repair by replay). With nobody subscribed there is
 * nothing to pack or send (PUB would drop it): a subscriber that comes later replays what it
 * missed, as after any gap, so a daemon nobody listens to spends nothing on the feed. */
static void send_upto(taskpub_t *self, uint64_t upto)
{
    uint64_t last;
    read_subscriptions(self);
    if (self->topics == 0)
        self->sent = upto;
    while (self->sent < upto) {
        uint64_t from = self->sent;
        uint32_t n = upto - from > CHUNK ? CHUNK : (uint32_t)(upto - from);
        if (feedlog_read(self->main, self->feed, from + 1, n, NULL, 0, send_one, self, &last) <=
                0 ||
            self->sent == from)
            return;
    }
}

static void heartbeat(taskpub_t *self, uint64_t head)
{
    if (!reached(&self->hb_at))
        return;
    feed_send_heartbeat(self->pub_in_use, "tasks", head);
    self->hb_at = follower_in(FEED_HEARTBEAT_MS);
}

/* Under lock: until there is something to send, a heartbeat due, or a stop. */
static void wait_for_work(taskpub_t *self)
{
    while (!self->f.stop && (!self->pub || self->done_upto >= self->f.target)) {
        if (!self->pub)
            pthread_cond_wait(&self->f.work, &self->f.lock);
        else if (pthread_cond_timedwait(&self->f.work, &self->f.lock, &self->hb_at) == ETIMEDOUT &&
                 self->pub) /* the socket may have been taken back meanwhile */
            return;
    }
}

static void *publisher(void *arg)
{
    taskpub_t *self = arg;
    pthread_setname_np(pthread_self(), "gb-taskfeed");
    pthread_mutex_lock(&self->f.lock);
    for (;;) {
        wait_for_work(self);
        if (self->f.stop)
            break;
        uint64_t upto = self->f.target;
        self->pub_in_use = self->pub;
        self->busy = true;
        pthread_mutex_unlock(&self->f.lock);
        send_upto(self, upto);
        heartbeat(self, upto);
        pthread_mutex_lock(&self->f.lock);
        self->busy = false;
        self->done_upto = self->sent;
        pthread_cond_broadcast(&self->f.done);
        if (self->sent < upto) /* the feed could not be read: again at the next heartbeat */
            pthread_cond_timedwait(&self->f.work, &self->f.lock, &self->hb_at);
    }
    pthread_mutex_unlock(&self->f.lock);
    return NULL;
}

taskpub_t *taskpub_new(store_t *main, MDB_dbi feed, uint64_t head)
{
    taskpub_t *self = calloc(1, sizeof *self);
    if (!self || !(self->task = malloc(sizeof *self->task)) ||
        !msgpack_zone_init(&self->zone, 4096)) {
        if (self)
            free(self->task);
        free(self);
        return NULL;
    }
    self->main = main, self->feed = feed;
    self->sent = self->done_upto = head;
    self->hb_at = follower_in(0);
    msgpack_sbuffer_init(&self->wire);
    follower_init(&self->f, head);
    if (follower_start(&self->f, publisher, self) < 0)
        taskpub_destroy(&self);
    return self;
}

void taskpub_destroy(taskpub_t **self_p)
{
    taskpub_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    follower_destroy(&self->f);
    msgpack_sbuffer_destroy(&self->wire);
    msgpack_zone_destroy(&self->zone);
    free(self->task);
    free(self);
    *self_p = NULL;
}

void taskpub_follow(taskpub_t *self, uint64_t head)
{
    follower_follow(&self->f, head);
}

void taskpub_attach(taskpub_t *self, void *pub)
{
    pthread_mutex_lock(&self->f.lock);
    if (!pub && self->pub) { /* what is committed goes out first, a bounded while */
        struct timespec until = follower_in(2000);
        while (self->done_upto < self->f.target &&
               pthread_cond_timedwait(&self->f.done, &self->f.lock, &until) != ETIMEDOUT)
            ;
    }
    self->pub = pub;
    pthread_cond_signal(&self->f.work);
    while (!pub && self->busy) /* the socket is the caller's again after this */
        pthread_cond_wait(&self->f.done, &self->f.lock);
    pthread_mutex_unlock(&self->f.lock);
}
