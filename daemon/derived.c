/*
 * derived: see derived.h.
 */
#include "derived.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

static void boot_id(char out[64])
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f || !fgets(out, 64, f))
        snprintf(out, 64, "unknown");
    if (f)
        fclose(f);
    out[strcspn(out, "\n")] = 0;
}

static int write_state(const char *dir, const char *word, char *err, size_t errlen)
{
    char path[700], boot[64], text[100];
    boot_id(boot);
    snprintf(path, sizeof path, "%s/state", dir);
    int n = snprintf(text, sizeof text, "%s %s\n", word, boot);
    return fsutil_replace(path, text, (size_t)n, 0640, err, errlen);
}

/* Whether the environment in dir may be trusted: stopped cleanly, or left by this boot. */
static bool trusted(const char *dir)
{
    char path[700], line[100] = "", boot[64];
    snprintf(path, sizeof path, "%s/state", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\n")] = 0;
    boot_id(boot);
    const char *sp = strchr(line, ' ');
    if (!ok || !sp)
        return false;
    /* Without a boot id a dirty environment cannot be told from one a power loss tore. */
    return strncmp(line, "clean", 5) == 0 ||
           (strcmp(boot, "unknown") != 0 && strcmp(sp + 1, boot) == 0);
}

int derived_open(const char *dir, bool *deleted, char *err, size_t errlen)
{
    char path[700];
    *deleted = false;
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return snprintf(err, errlen, "%s: %s", dir, strerror(errno)), -1;
    for (int i = 0; i < 2 && !trusted(dir); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, i ? "lock.mdb" : "data.mdb");
        int rc = unlink(path);
        if (rc < 0 && errno != ENOENT)
            return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
        *deleted |= rc == 0 && i == 0;
    }
    return write_state(dir, "dirty", err, errlen);
}

int derived_close(const char *dir)
{
    char err[256];
    return write_state(dir, "clean", err, sizeof err);
}
