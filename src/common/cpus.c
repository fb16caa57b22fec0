/*
 * cpus.c -- the affinity mask and the control group's CPU quota.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "common/cpus.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A whole small file, NUL-terminated, into `buf`; false when unreadable. */
static bool read_small(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

static bool parse_long(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s) return false;
    while (*end == ' ' || *end == '\n') end++;
    if (*end) return false;
    *out = v;
    return true;
}

/* The quota in CPUs that the group directory `dir` sets, 0 for none. */
static double group_quota(const char *dir, bool v2) {
    char path[4096], text[128];
    if (v2) {
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        if (!read_small(path, text, sizeof text)) return 0;
        char *space = strchr(text, ' ');
        if (!space || strncmp(text, "max", 3) == 0) return 0;
        *space = '\0';
        long long quota, period;
        if (!parse_long(text, &quota) || !parse_long(space + 1, &period)) return 0;
        return quota > 0 && period > 0 ? (double)quota / (double)period : 0;
    }
    long long quota, period;
    snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
    if (!read_small(path, text, sizeof text) || !parse_long(text, &quota)) return 0;
    snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
    if (!read_small(path, text, sizeof text) || !parse_long(text, &period)) return 0;
    return quota > 0 && period > 0 ? (double)quota / (double)period : 0;
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The smallest quota of `mount`/`path` and of every group above it.  When
 * the group is not under the mount (a container without its own cgroup
 * namespace sees the host's path, but its own group mounted at the root),
 * the mount's root is the group. */
static double smallest_quota(const char *mount, const char *path, bool v2) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s", mount, path);
    if (!is_dir(dir)) snprintf(dir, sizeof dir, "%s", mount);
    size_t floor = strlen(mount);
    double best = 0;
    for (;;) {
        double q = group_quota(dir, v2);
        if (q > 0 && (best == 0 || q < best)) best = q;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < floor) break;
        *slash = '\0';
    }
    return best;
}

/* Whether the comma-separated `list` (of length len) names `name`. */
static bool names(const char *list, size_t len, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list, *end = list + len; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t item = comma ? (size_t)(comma - p) : (size_t)(end - p);
        if (item == n && memcmp(p, name, n) == 0) return true;
        if (!comma) break;
        p = comma + 1;
    }
    return false;
}

rb_cpus rb_cpus_limit(const char *proc_cgroup, const char *cgroup_root, int affinity) {
    rb_cpus c = {.count = affinity > 0 ? affinity : 1, .affinity = affinity, .quota = 0};
    for (const char *line = proc_cgroup; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        /* "ID:CONTROLLERS:PATH" */
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (c2) {
            char path[2048];
            size_t plen = len - (size_t)(c2 + 1 - line);
            if (plen >= sizeof path) plen = sizeof path - 1;
            memcpy(path, c2 + 1, plen);
            path[plen] = '\0';
            if (strcmp(path, "/") == 0) path[0] = '\0';
            size_t clen = (size_t)(c2 - c1 - 1);
            double q = 0;
            char mount[2048];
            if (c1 - line == 1 && line[0] == '0' && clen == 0) {
                /* v2: the unified hierarchy at the root, or beside v1 */
                const char *where[] = {"", "/unified"};
                for (size_t i = 0; i < 2 && q == 0; i++) {
                    snprintf(mount, sizeof mount, "%s%s", cgroup_root, where[i]);
                    char probe[2100];
                    snprintf(probe, sizeof probe, "%s/cgroup.controllers", mount);
                    struct stat st;
                    if (stat(probe, &st) == 0) q = smallest_quota(mount, path, true);
                }
            } else if (names(c1 + 1, clen, "cpu")) {
                char dir[2048];
                snprintf(dir, sizeof dir, "%.*s", (int)clen, c1 + 1);
                snprintf(mount, sizeof mount, "%s/%s", cgroup_root, dir);
                if (!is_dir(mount)) snprintf(mount, sizeof mount, "%s/cpu", cgroup_root);
                if (is_dir(mount)) q = smallest_quota(mount, path, false);
            }
            if (q > 0 && (c.quota == 0 || q < c.quota)) c.quota = q;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (c.quota > 0) {
        /* Rounded up: a quota of 1.5 CPUs keeps two threads busy. */
        int q = (int)ceil(c.quota - 1e-9);
        if (q < 1) q = 1;
        if (q < c.count) c.count = q;
    }
    return c;
}

rb_cpus rb_cpus_available(void) {
    cpu_set_t set;
    int affinity = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) affinity = CPU_COUNT(&set);
    if (affinity <= 0) affinity = 1;
    char text[8192];
    if (!read_small("/proc/self/cgroup", text, sizeof text)) text[0] = '\0';
    return rb_cpus_limit(text, "/sys/fs/cgroup", affinity);
}

void rb_cpus_describe(const rb_cpus *c, char *out, size_t size) {
    if (c->quota > 0 && c->count < c->affinity)
        snprintf(out, size, "%d (CPU quota %.2f of the cgroup; %d in the affinity mask)", c->count,
                 c->quota, c->affinity);
    else if (c->quota > 0)
        snprintf(out, size, "%d (the affinity mask; CPU quota %.2f of the cgroup)", c->count,
                 c->quota);
    else
        snprintf(out, size, "%d (the affinity mask; no CPU quota)", c->count);
}
