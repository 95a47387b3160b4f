/*
 * log: one line per event worth an operator's time, as key=value fields.
 *
 * Under systemd (JOURNAL_STREAM names our stderr) each line starts with a <N> syslog
 * priority so journald keeps the level and adds its own timestamp; elsewhere lines carry
 * an ISO-8601 UTC timestamp and the level name.
 */
#ifndef GB_LOG_H
#define GB_LOG_H

typedef enum { LOG_LVL_ERROR = 3, LOG_LVL_WARNING = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 } log_level_t;

/* Reads JOURNAL_STREAM and stderr once. */
void log_init(void);

/* "debug", "info", "warning", "error"; 0, or -1 for an unknown name. */
int log_set_level(const char *name);

void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
