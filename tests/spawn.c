/* spawn.c -- see spawn.h. */
#include "spawn.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

char *spawn_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
    }
    ck_assert_msg(!ferror(f), "cannot read %s", path);
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* The environment the child gets: ours with `over` replacing or adding
 * entries.  Built before fork so the child only calls exec. */
static char **child_env(const char *const *over) {
    size_t n_env = 0, n_over = 0;
    while (environ[n_env]) n_env++;
    while (over && over[n_over]) n_over++;
    char **env = calloc(n_env + n_over + 1, sizeof *env);
    ck_assert_ptr_nonnull(env);
    size_t n = 0;
    for (size_t i = 0; i < n_env; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t name = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < n_over && !replaced; j++)
            replaced = strncmp(over[j], environ[i], name) == 0 && over[j][name] == '=';
        if (!replaced) env[n++] = environ[i];
    }
    for (size_t j = 0; j < n_over; j++) env[n++] = (char *)over[j];
    env[n] = NULL;
    return env;
}

static int wait_bounded(pid_t pid, const char *what, int timeout_s) {
    struct timespec tick = {0, 5 * 1000 * 1000};
    long ticks = (long)timeout_s * 200;
    int st;
    for (long i = 0;; i++) {
        pid_t got = waitpid(pid, &st, WNOHANG);
        if (got == pid) break;
        ck_assert_msg(got == 0, "waiting for %s: %s", what, strerror(errno));
        if (i >= ticks) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            ck_abort_msg("%s still running after %d s: killed", what, timeout_s);
        }
        nanosleep(&tick, NULL);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

spawn_ran spawn_run(const char *const *argv, const spawn_opts *opts) {
    spawn_opts none = {0};
    if (!opts) opts = &none;
    char out[] = "/tmp/rb_spawn_out_XXXXXX", err[] = "/tmp/rb_spawn_err_XXXXXX";
    int fo = mkstemp(out), fe = opts->merge ? fo : mkstemp(err);
    ck_assert_msg(fo >= 0 && fe >= 0, "temporary file: %s", strerror(errno));
    char **env = child_env(opts->env);
    /* Told through a pipe closed on exec: a program that cannot be run
     * fails the test with its name, not with status 127. */
    int report[2];
    ck_assert_int_eq(pipe(report), 0);
    ck_assert_int_eq(fcntl(report[1], F_SETFD, FD_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(report[0]);
        int e = 0;
        if ((opts->cwd && chdir(opts->cwd) != 0) || dup2(fo, STDOUT_FILENO) < 0 ||
            dup2(fe, STDERR_FILENO) < 0)
            e = errno;
        if (e == 0) {
            environ = env;
            execvp(argv[0], (char *const *)argv);
            e = errno;
        }
        ssize_t w = write(report[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(report[1]);
    int child_errno = 0;
    ssize_t got = read(report[0], &child_errno, sizeof child_errno);
    close(report[0]);
    free(env);
    int status = wait_bounded(pid, argv[0], opts->timeout_s > 0 ? opts->timeout_s : 120);
    ck_assert_msg(got != (ssize_t)sizeof child_errno, "cannot run %s%s%s (%s)%s%s", argv[0],
                  opts->cwd ? " in " : "", opts->cwd ? opts->cwd : "", strerror(child_errno),
                  opts->hint ? ": " : "", opts->hint ? opts->hint : "");
    close(fo);
    spawn_ran r = {status, spawn_slurp(out, NULL), NULL};
    unlink(out);
    if (opts->merge) {
        r.err = calloc(1, 1);
        ck_assert_ptr_nonnull(r.err);
    } else {
        close(fe);
        r.err = spawn_slurp(err, NULL);
        unlink(err);
    }
    return r;
}

spawn_ran spawn_ragbatch(const char *const *args, const spawn_opts *opts) {
    const char *argv[32] = {RB_BUILD_DIR "/ragbatch"};
    size_t n = 1;
    for (; args[n - 1]; n++) {
        ck_assert_msg(n < 31, "spawn_ragbatch takes at most 30 arguments");
        argv[n] = args[n - 1];
    }
    argv[n] = NULL;
    return spawn_run(argv, opts);
}

void spawn_ran_free(spawn_ran *r) {
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

bool spawn_has_line(const char *text, const char *line) {
    size_t len = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0')) return true;
    return false;
}
