/*
 * promtext: a strict parser of the Prometheus text exposition format (version 0.0.4), so
 * end-to-end tests can hold gridbusd's /metrics to the format rather than to a few greps.
 *
 * Stricter than Prometheus itself where the daemon's contract is stricter: every family
 * must have HELP and TYPE before its first sample, and a family's lines must form one
 * group. Checked: metric and label names, label value escapes (\\ \" \n only), duplicate
 * label names and duplicate series, float values (decimal, exponent, NaN, +Inf, -Inf),
 * optional integer timestamps, HELP escapes, one HELP and one TYPE per family and TYPE
 * before samples, counters named *_total and >= 0, histograms made only of _bucket, _sum
 * and _count with, per label set, le values increasing to a last +Inf, cumulative counts,
 * a _sum, and a _count equal to the +Inf bucket. Free of Criterion, like gbtest.
 */
#ifndef GB_TEST_PROMTEXT_H
#define GB_TEST_PROMTEXT_H

#include <stddef.h>

typedef struct promtext promtext_t;

/* Parses text; NULL with the reason (and the offending line) in why. */
promtext_t *promtext_parse(const char *text, char *why, size_t whylen);
void promtext_free(promtext_t **p_p);

/* The value of the series name{labels} (labels as in the text, in any order, "" for none,
 * le included for buckets); NAN when there is no such series. */
double promtext_get(const promtext_t *p, const char *name, const char *labels);

#endif
