/*
 * follower: see follower.h.
 */
#include "follower.h"

void follower_init(follower_t *f, uint64_t head)
{
    pthread_condattr_t mono;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->work, &mono);
    pthread_cond_init(&f->done, &mono);
    pthread_condattr_destroy(&mono);
    f->target = head;
    f->stop = f->started = false;
}

int follower_start(follower_t *f, void *(*fn)(void *), void *arg)
{
    f->started = pthread_create(&f->thread, NULL, fn, arg) == 0;
    return f->started ? 0 : -1;
}

void follower_destroy(follower_t *f)
{
    if (f->started) {
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_signal(&f->work);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
        f->started = false;
    }
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->work);
    pthread_cond_destroy(&f->done);
}

void follower_follow(follower_t *f, uint64_t head)
{
    pthread_mutex_lock(&f->lock);
    if (head > f->target) {
        f->target = head;
        pthread_cond_signal(&f->work);
    }
    pthread_mutex_unlock(&f->lock);
}

struct timespec follower_in(long ms)
{
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    at.tv_sec += ms / 1000;
    at.tv_nsec += (ms % 1000) * 1000000L;
    if (at.tv_nsec >= 1000000000L)
        at.tv_sec++, at.tv_nsec -= 1000000000L;
    return at;
}
