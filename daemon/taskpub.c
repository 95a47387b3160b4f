/*
 * taskpub: see taskpub.h. The record's wire form is packed by taskrec_feed_wire, the packer
 * a replay uses, so a live record and a replayed one are the same bytes. One mutex and two
 * conditions (on CLOCK_MONOTONIC, for the heartbeat's second) hand over the head to follow,
 * the socket, and what was sent.
 */
#include "taskpub.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "feed.h"
#include "feedlog.h"
#include "taskrec.h"

#define HEARTBEAT_MS 1000
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
    /* shared under lock */
    pthread_t thread;
    bool started, stop, busy; /* busy: the thread is using pub */
    uint64_t target, done_upto;
    void *pub;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
};

static struct timespec mono_in(long ms)
{
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    at.tv_sec += ms / 1000;
    at.tv_nsec += (ms % 1000) * 1000000L;
    if (at.tv_nsec >= 1000000000L)
        at.tv_sec++, at.tv_nsec -= 1000000000L;
    return at;
}

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
    self->sent = seq; /* a record no subscriber could read is passed over */
    if (taskrec_decode_feed(&self->zone, rec, len, &c, self->task) < 0)
        return 0;
    taskrec_topic(self->task, topic, sizeof topic);
    if (taskrec_feed_wire(&self->wire, seq, topic, c.at, c.change, c.by, self->task) == 0)
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
    self->hb_at = mono_in(HEARTBEAT_MS);
}

/* Under lock: until there is something to send, a heartbeat due, or a stop. */
static void wait_for_work(taskpub_t *self)
{
    while (!self->stop && (!self->pub || self->done_upto >= self->target)) {
        if (!self->pub)
            pthread_cond_wait(&self->work, &self->lock);
        else if (pthread_cond_timedwait(&self->work, &self->lock, &self->hb_at) == ETIMEDOUT)
            return;
    }
}

static void *publisher(void *arg)
{
    taskpub_t *self = arg;
    pthread_setname_np(pthread_self(), "gb-taskfeed");
    pthread_mutex_lock(&self->lock);
    for (;;) {
        wait_for_work(self);
        if (self->stop)
            break;
        uint64_t upto = self->target;
        self->pub_in_use = self->pub;
        self->busy = true;
        pthread_mutex_unlock(&self->lock);
        send_upto(self, upto);
        heartbeat(self, upto);
        pthread_mutex_lock(&self->lock);
        self->busy = false;
        self->done_upto = self->sent;
        pthread_cond_broadcast(&self->done);
        if (self->sent < upto) /* the feed could not be read: again at the next heartbeat */
            pthread_cond_timedwait(&self->work, &self->lock, &self->hb_at);
    }
    pthread_mutex_unlock(&self->lock);
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
    self->sent = self->target = self->done_upto = head;
    self->hb_at = mono_in(0);
    msgpack_sbuffer_init(&self->wire);
    pthread_condattr_t mono;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->work, &mono);
    pthread_cond_init(&self->done, &mono);
    pthread_condattr_destroy(&mono);
    if (pthread_create(&self->thread, NULL, publisher, self) != 0) {
        taskpub_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void taskpub_destroy(taskpub_t **self_p)
{
    taskpub_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->started) {
        pthread_mutex_lock(&self->lock);
        self->stop = true;
        pthread_cond_signal(&self->work);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->thread, NULL);
    }
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->work);
    pthread_cond_destroy(&self->done);
    msgpack_sbuffer_destroy(&self->wire);
    msgpack_zone_destroy(&self->zone);
    free(self->task);
    free(self);
    *self_p = NULL;
}

void taskpub_follow(taskpub_t *self, uint64_t head)
{
    pthread_mutex_lock(&self->lock);
    if (head > self->target) {
        self->target = head;
        pthread_cond_signal(&self->work);
    }
    pthread_mutex_unlock(&self->lock);
}

void taskpub_attach(taskpub_t *self, void *pub)
{
    pthread_mutex_lock(&self->lock);
    if (!pub && self->pub) { /* what is committed goes out first, a bounded while */
        struct timespec until = mono_in(2000);
        while (self->done_upto < self->target &&
               pthread_cond_timedwait(&self->done, &self->lock, &until) != ETIMEDOUT)
            ;
    }
    self->pub = pub;
    pthread_cond_signal(&self->work);
    while (!pub && self->busy) /* the socket is the caller's again after this */
        pthread_cond_wait(&self->done, &self->lock);
    pthread_mutex_unlock(&self->lock);
}
