/*
 * feed: see feed.h. Queued records live in one growing buffer (topic and record packed
 * back to back with their lengths), reused from batch to batch.
 */
#include "feed.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "wire.h"

struct feed {
    void *pub;
    char stream[16];
    feed_head_fn head;
    void *arg;
    struct event *hb_ev;
    msgpack_sbuffer queue; /* [u32 topic len][topic][u32 rec len][rec] ... */
};

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    feed_heartbeat(arg);
}

feed_t *feed_new(struct event_base *base, void *pub, const char *stream, feed_head_fn head,
                 void *arg)
{
    feed_t *self = calloc(1, sizeof *self);
    struct timeval tv = {FEED_HEARTBEAT_MS / 1000, (FEED_HEARTBEAT_MS % 1000) * 1000};
    if (!self)
        return NULL;
    self->pub = pub, self->head = head, self->arg = arg;
    snprintf(self->stream, sizeof self->stream, "%s", stream);
    msgpack_sbuffer_init(&self->queue);
    self->hb_ev = event_new(base, -1, EV_PERSIST, on_heartbeat, self);
    if (!self->hb_ev || event_add(self->hb_ev, &tv) < 0)
        feed_destroy(&self);
    return self;
}

void feed_destroy(feed_t **self_p)
{
    feed_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->hb_ev)
        event_free(self->hb_ev);
    msgpack_sbuffer_destroy(&self->queue);
    free(self);
    *self_p = NULL;
}

static void put_part(msgpack_sbuffer *q, const void *data, uint32_t len)
{
    msgpack_sbuffer_write(q, (const char *)&len, sizeof len);
    msgpack_sbuffer_write(q, data, len);
}

int feed_queue(feed_t *self, const char *topic, const void *rec, size_t len)
{
    put_part(&self->queue, topic, (uint32_t)strlen(topic));
    put_part(&self->queue, rec, (uint32_t)len);
    return 0;
}

static const char *get_part(const char *p, const void **data, uint32_t *len)
{
    memcpy(len, p, sizeof *len);
    *data = p + sizeof *len;
    return p + sizeof *len + *len;
}

void feed_flush(feed_t *self)
{
    if (self->queue.size == 0)
        return; /* nothing queued: the buffer may not even exist yet */
    const char *p = self->queue.data, *end = p + self->queue.size;
    while (p < end) {
        const void *topic, *rec;
        uint32_t tlen, rlen;
        p = get_part(p, &topic, &tlen);
        p = get_part(p, &rec, &rlen);
        feed_send(self->pub, topic, tlen, rec, rlen);
    }
    msgpack_sbuffer_clear(&self->queue);
}

void feed_discard(feed_t *self)
{
    msgpack_sbuffer_clear(&self->queue);
}

void feed_heartbeat(feed_t *self)
{
    feed_send_heartbeat(self->pub, self->stream, self->head(self->arg));
}

void feed_send(void *pub, const void *topic, size_t topic_len, const void *rec, size_t len)
{
    /* PUB never blocks: under its high-water mark it drops, and replay repairs. */
    zmq_send(pub, topic, topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(pub, rec, len, ZMQ_DONTWAIT);
}

void feed_send_heartbeat(void *pub, const char *stream, uint64_t head)
{
    char topic[32];
    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&buf);
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    wire_pack_cstr(&pk, "stream"), wire_pack_cstr(&pk, stream);
    wire_pack_cstr(&pk, "head"), msgpack_pack_uint64(&pk, head);
    wire_pack_cstr(&pk, "at"), msgpack_pack_int64(&pk, clock_now());
    int n = snprintf(topic, sizeof topic, "hb/%s", stream);
    feed_send(pub, topic, (size_t)n < sizeof topic ? (size_t)n : sizeof topic - 1, buf.data,
              buf.size);
    msgpack_sbuffer_destroy(&buf);
}
