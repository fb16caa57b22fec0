/*
 * treerss.c -- peak resident memory of a command and all its descendants,
 * summed over the processes alive at the same moment.  A PySpark job is a
 * JVM plus a Python driver plus Python workers; /usr/bin/time reports only
 * the largest single process, so the benchmarks sample /proc instead.
 *
 *   treerss OUT_FILE INTERVAL_MS -- COMMAND [ARGS...]
 * runs COMMAND, samples every INTERVAL_MS the process tree below it (by
 * parent pid, from /proc/PID/stat) and sums VmRSS (/proc/PID/statm) and
 * Pss (/proc/PID/smaps_rollup, which counts pages shared between the
 * processes once).  When COMMAND exits it writes
 *   peak_rss_kb=N peak_pss_kb=N peak_procs=N samples=N wall_ms=N cpu_ms=N
 * to OUT_FILE (wall_ms: COMMAND's run time, so that a caller waiting for a
 * lock before treerss does not count; cpu_ms: user + system time of
 * COMMAND and the descendants it waited for, which against wall_ms times
 * the cores shows a run that other load starved) and exits with COMMAND's status (128
 * + signal if it was killed).  SIGTERM and SIGINT are passed on to COMMAND.
 * The sampler itself is not counted.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 65536

typedef struct proc {
    pid_t pid, ppid;
} proc;

/* The child's pid, for the forwarding handler (a handler has no context
 * argument; written once before the handlers are installed). */
static volatile pid_t child_pid;

static void forward(int sig) {
    if (child_pid > 0) kill(child_pid, sig);
}

static int read_ppid(pid_t pid, pid_t *ppid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name is in parentheses and may hold spaces: parse after
     * the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    int pp;
    if (sscanf(p + 1, " %*c %d", &pp) != 1) return -1;
    *ppid = (pid_t)pp;
    return 0;
}

static long long rss_kb(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long long size = 0, resident = 0;
    int ok = fscanf(f, "%lld %lld", &size, &resident) == 2;
    fclose(f);
    return ok ? resident * (sysconf(_SC_PAGESIZE) / 1024) : 0;
}

static long long pss_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long long v = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Pss: %lld kB", &v) == 1) break;
    fclose(f);
    return v;
}

/* Sums over `root` and its descendants; returns the number of processes. */
static int sample(pid_t root, proc *procs, long long *rss, long long *pss) {
    DIR *d = opendir("/proc");
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_PROCS) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
        pid_t ppid;
        if (read_ppid(pid, &ppid) == 0) procs[n++] = (proc){pid, ppid};
    }
    closedir(d);
    /* Mark the tree: repeat until no new member (depth is small). */
    char *in = calloc(n ? n : 1, 1);
    if (!in) return 0;
    for (size_t i = 0; i < n; i++) in[i] = procs[i].pid == root;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (in[i]) continue;
            for (size_t j = 0; j < n; j++)
                if (in[j] && procs[j].pid == procs[i].ppid) {
                    in[i] = 1;
                    changed = 1;
                    break;
                }
        }
    }
    int count = 0;
    *rss = *pss = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i]) {
            *rss += rss_kb(procs[i].pid);
            *pss += pss_kb(procs[i].pid);
            count++;
        }
    free(in);
    return count;
}

int main(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: treerss OUT_FILE INTERVAL_MS -- COMMAND [ARGS...]\n");
        return 2;
    }
    long interval = strtol(argv[2], NULL, 10);
    if (interval < 10) interval = 10;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("treerss: fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[4], argv + 4);
        fprintf(stderr, "treerss: %s: %s\n", argv[4], strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    proc *procs = malloc(MAX_PROCS * sizeof *procs);
    if (!procs) return 1;
    long long peak_rss = 0, peak_pss = 0;
    int peak_procs = 0, samples = 0, status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) {
            perror("treerss: waitpid");
            return 1;
        }
        long long r = 0, p = 0;
        int c = sample(pid, procs, &r, &p);
        samples++;
        if (r > peak_rss) peak_rss = r;
        if (p > peak_pss) peak_pss = p;
        if (c > peak_procs) peak_procs = c;
        struct timespec ts = {interval / 1000, (interval % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long wall_ms =
        (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    long long cpu_ms = ((long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    free(procs);
    FILE *f = fopen(argv[1], "w");
    if (!f ||
        fprintf(f,
                "peak_rss_kb=%lld peak_pss_kb=%lld peak_procs=%d samples=%d wall_ms=%lld "
                "cpu_ms=%lld\n",
                peak_rss, peak_pss, peak_procs, samples, wall_ms, cpu_ms) < 0 ||
        fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
