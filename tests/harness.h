/*
 * harness.h -- what the integration suites share: the real servers'
 * addresses, fresh topics and databases, job files, running the ragbatch
 * binary, producing records and reading committed offsets.
 *
 * The servers are started by scripts/servers.sh, which exports
 * RAGBATCH_KAFKA_BOOTSTRAP and RAGBATCH_MONGO_URI.  A missing variable or
 * an unreachable server FAILS the suite: an integration test that skips
 * proves nothing.
 *
 * RAGBATCH_MONGO_URI may name either MongoDB-wire test server, FerretDB
 * (scripts/mongo.sh) or mongo-java-server (scripts/mongo-java.sh), with
 * RAGBATCH_MONGO_SERVER saying which; scripts/test.sh runs the suites that
 * use it once against each.
 */
#ifndef RB_TEST_HARNESS_H
#define RB_TEST_HARNESS_H

#include "json/json.h"
#include "sink/sink.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The value of a required environment variable; aborts the test if unset. */
const char *harness_env(const char *name);

/* A name unique to this process and call: "PREFIX-<pid>-<n>". */
void harness_unique(const char *prefix, char *out, size_t size);

/* Creates a topic with `partitions` partitions (replication 1). */
void harness_create_topic(const char *topic, int partitions);

/* Writes a job file for `topic` into database `db`, collection "docs",
 * with the project's schema, template and model; `extra` lines (may be
 * NULL) are appended.  Returns the path in a static buffer. */
const char *harness_write_job(const char *name, const char *topic, const char *db,
                              const char *extra);

/* Starts `ragbatch ARGS...` (NULL-terminated) with stderr to `log_path`. */
pid_t harness_spawn(const char *log_path, const char *const *args);

/* Waits for `pid` up to `timeout_s`; returns its exit status, or aborts
 * the test (after killing it) on timeout.  A death by signal returns
 * 128 + signal. */
int harness_wait(pid_t pid, int timeout_s);

/* Runs ragbatch to completion; returns the exit status. */
int harness_run(const char *log_path, const char *const *args, int timeout_s);

/* Produces records: value NULL is a tombstone.  Waits for delivery. */
typedef struct harness_msg {
    const char *key;
    const char *value;
    size_t value_len;  /* 0 means strlen(value) */
    int32_t partition; /* -1 lets the partitioner choose */
} harness_msg;
void harness_produce(const char *topic, const harness_msg *msgs, size_t n);

/* Produces `count` generated product events; writes the manifest of the
 * expected final state to `manifest_path` (may be NULL).  Returns the
 * number of malformed events among them. */
size_t harness_produce_generated(const char *topic, size_t count, size_t products, uint64_t seed,
                                 double malformed, double delete_share, const char *manifest_path);

/* Sum over partitions of `topic` of the group's committed offsets (an
 * uncommitted partition counts 0). */
int64_t harness_committed_total(const char *group, const char *topic);

/* The MongoDB-wire test server at RAGBATCH_MONGO_URI, as named by
 * RAGBATCH_MONGO_SERVER: "ferretdb" (scripts/mongo.sh; run/servers.env sets
 * it) or "mongo-java" (scripts/mongo-java.sh; scripts/test.sh sets it with
 * RAGBATCH_MONGO_JAVA_URI for its second run).  For the few cases whose
 * premise one server cannot meet (docs/test-servers.md says which).  Aborts
 * the test if the variable is unset or unknown, or if that server's script,
 * run from this source tree, does not report the URI's host:port. */
typedef enum harness_mongo_server { HARNESS_FERRETDB, HARNESS_MONGO_JAVA } harness_mongo_server;
harness_mongo_server harness_mongo(void);

/* An outage of that server: down closes it to clients (connections reset,
 * new ones refused), up brings it back with its data and waits until it
 * answers a ping; up without a down first makes sure the server under test
 * runs.  Aborts the test if the script fails. */
void harness_mongo_down(void);
void harness_mongo_up(void);

/* A sink on database `db`, collection "docs". */
rb_sink *harness_sink(const char *db);

/* One integration case's own topic, database and log, and its teardown:
 * harness_case_open() makes unique names from `name` ("rb-NAME-..." for
 * the topic, which is also the job's name and consumer group; the same
 * with '_' for the database) and creates the topic; harness_case_job()
 * writes its job (harness_write_job, plus log.format = json so that
 * harness_progress() can read the run); harness_case_sink() opens a sink
 * on its database once; harness_case_close() drops the database. */
typedef struct harness_case {
    char topic[128];
    char db[128];
    char log[512];
    const char *job; /* set by harness_case_job */
    rb_sink *sink;   /* set by harness_case_sink */
} harness_case;
void harness_case_open(harness_case *c, const char *name, int partitions);
const char *harness_case_job(harness_case *c, const char *extra);
rb_sink *harness_case_sink(harness_case *c);
/* Runs `ragbatch run JOB --until caught-up [ARGS...]` (NULL-terminated
 * extra arguments, may be NULL) and returns its exit status. */
int harness_case_run(harness_case *c, const char *const *args);
void harness_case_close(harness_case *c);

/* What the JSON progress lines (log.format = json) of one run's log say,
 * summed over its batches.  Aborts the test when a progress line is not
 * JSON, or when a batch's numInputRows is not the sum of its records. */
typedef struct harness_progress {
    int64_t batches;
    int64_t in, stored, deleted, stale, reused, skipped, dead_lettered, failed, embedded;
} harness_progress;
harness_progress harness_progress_read(const char *log_path);

/* Runs a job written by harness_write_job(name, topic, db, extra) with
 * `run --until caught-up` (bounded at 180 s) and returns its log
 * (malloc'ed); fails the test, showing the log, unless it exits
 * `expect_status`. */
char *harness_run_job(const char *name, const char *topic, const char *db, const char *extra,
                      int expect_status);

/* Runs `argv` (argv[0] looked up in PATH) with stdout and stderr to
 * `log_path`, bounded like harness_wait; fails the test, showing the log,
 * when it does not exit 0.  `what` names it in that message. */
void harness_exec(const char *what, const char *log_path, const char *const *argv, int timeout_s);

/* Sums `key`=N over the text progress lines ("event=progress ...") of a
 * log (log.format = text; harness_progress_read is the JSON one). */
long harness_progress_sum(const char *text, const char *key);

/* The document `id` stored through `sink`, parsed (the caller destroys
 * it); fails the test when it is not stored.  `what` names the run in
 * that message. */
rb_json_doc *harness_stored(rb_sink *sink, const char *id, const char *what);

/* Member `name` of stored document `id`; fails the test when missing. */
const rb_json *harness_member(const rb_json *doc, const char *name, const char *id);

/* Stored document `got` of `id` must be `want` stored alike (one input
 * through two value formats): the same version and deletion and, unless
 * deleted, the same text, text hash, model and metadata, and an embedding
 * of the same non-zero length within 1e-6.  `label` names `got` in
 * failures. */
void harness_expect_same_stored(const rb_json *want, const rb_json *got, const char *id,
                                const char *label);

/* An integer as relaxed extended JSON writes int64: a number, or
 * {"$numberLong": "n"}.  Fails the test on anything else. */
int64_t harness_json_int(const rb_json *v);

/* A loopback TCP port nobody listens on at the moment of the call (bound
 * and released; another process may take it later). */
int harness_free_port(void);

/* Reads a whole file into a malloc'ed string. */
char *harness_slurp(const char *path);

/* The model directory the suites use. */
const char *harness_model_dir(void);

#endif
