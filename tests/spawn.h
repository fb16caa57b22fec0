/*
 * spawn.h -- running a program from a test with its output captured, and
 * reading a whole file: the one copy the suites share (harness_slurp is
 * spawn_slurp).
 *
 * Everything here fails the calling Check test (ck_assert) rather than
 * returning an error: a program that cannot be started, a file that cannot
 * be read or a run that outlives its bound is a broken test, not a result.
 * Needs only libc and Check, so unit suites link it without the servers.
 */
#ifndef RB_TEST_SPAWN_H
#define RB_TEST_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

/* The file at `path`, whole, NUL-terminated (binary-safe: its length
 * without the NUL goes to *len when len is not NULL).  The caller frees. */
char *spawn_slurp(const char *path, size_t *len);

typedef struct spawn_opts {
    const char *cwd;        /* directory to run in; NULL: the test's own */
    const char *const *env; /* "NAME=VALUE" set in the child only; NULL-terminated, may be NULL */
    const char *hint;       /* appended to the failure when the program cannot be started */
    bool merge;             /* stderr into the same capture as stdout (err is then "") */
    /* Bound on the run, 0 meaning 120 s: past it the child is killed and the
     * test fails. */
    int timeout_s;
} spawn_opts;

typedef struct spawn_ran {
    int status; /* exit status, or 128 + signal */
    char *out;  /* stdout, NUL-terminated; owned by the caller (spawn_ran_free) */
    char *err;  /* stderr, likewise */
} spawn_ran;

/* Runs argv[0] (looked up in PATH when it holds no '/') with `argv`
 * (NULL-terminated) and `opts` (may be NULL), and waits for it. */
spawn_ran spawn_run(const char *const *argv, const spawn_opts *opts);

/* `RB_BUILD_DIR/ragbatch ARGS...` (args NULL-terminated, at most 30). */
spawn_ran spawn_ragbatch(const char *const *args, const spawn_opts *opts);

void spawn_ran_free(spawn_ran *r);

/* Whether `text` holds `line` as a whole line (without its newline). */
bool spawn_has_line(const char *text, const char *line);

#endif
