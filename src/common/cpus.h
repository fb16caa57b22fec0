/*
 * cpus.h -- how many CPUs this process may keep busy: the CPUs of its
 * affinity mask, bounded by its control group's CPU quota, rounded up.
 *
 * In a Kubernetes pod the affinity mask is usually the whole node (64 CPUs,
 * say) while a CPU limit of 2 is a CFS quota: 64 embedding threads would
 * meet at every barrier of a layer and be throttled most of each period.
 * The quota is read as the JVM and the Go runtime read it:
 *   cgroup v2  cpu.max ("QUOTA PERIOD" or "max PERIOD") of the process's
 *              group and of every group above it (the smallest wins);
 *   cgroup v1  cpu.cfs_quota_us / cpu.cfs_period_us (-1: none) of the
 *              "cpu" controller's group and those above it.
 * A container with its own cgroup namespace sees its group as "/", at the
 * root of the mount; that is read the same way.  A file that is missing or
 * does not parse sets no bound (the affinity mask stands).
 *
 * Used for the defaults of embed.threads and of OpenMP's other parallel
 * regions when OMP_NUM_THREADS is not set; `ragbatch --version` shows the
 * figure and where it came from.  Pure but for the files it reads; no
 * global state.
 */
#ifndef RB_COMMON_CPUS_H
#define RB_COMMON_CPUS_H

#include <stddef.h>

typedef struct rb_cpus {
    int count;    /* what to use: min(affinity, ceil(quota)), at least 1 */
    int affinity; /* CPUs in the affinity mask */
    double quota; /* the smallest CPU quota found, in CPUs; 0 when none */
} rb_cpus;

/* This process, from sched_getaffinity, /proc/self/cgroup and
 * /sys/fs/cgroup. */
rb_cpus rb_cpus_available(void);

/* The same from `proc_cgroup` (the text of /proc/self/cgroup), the cgroup
 * file systems mounted under `cgroup_root` (v2 at the root or at
 * "unified", v1 controllers in directories named by them, such as "cpu" or
 * "cpu,cpuacct") and `affinity` CPUs: for tests. */
rb_cpus rb_cpus_limit(const char *proc_cgroup, const char *cgroup_root, int affinity);

/* "2" or "1 (CPU quota 0.50 of the cgroup; 8 in the affinity mask)" into
 * `out`. */
void rb_cpus_describe(const rb_cpus *c, char *out, size_t size);

#endif
