/*
 * source.h -- the Kafka side: consumer group membership, fetching records
 * into a batch, end offsets, lag, and committing a batch's offsets.
 *
 * The consumer runs with enable.auto.commit=false and
 * enable.auto.offset.store=false: nothing is committed except by
 * rb_source_commit(), which the runner calls only after every record of
 * the batch is acknowledged downstream (and by rb_source_behind_check(),
 * for positions every record before which is settled).  The commit covers, for each
 * topic-partition of the batch, last offset + 1, and only for partitions
 * this consumer still owns: after a rebalance moved a partition away, its
 * records were (or will be) processed again by the new owner, which is safe
 * because writes are idempotent.
 *
 * Defaults set unless the job's kafka.* keys say otherwise: group.id and
 * client.id "ragbatch-<job>", auto.offset.reset=earliest,
 * partition.assignment.strategy=cooperative-sticky.
 *
 * Threads: one thread uses a source; librdkafka runs its own threads
 * inside.  librdkafka's types do not leave this module.
 */
#ifndef RB_SOURCE_H
#define RB_SOURCE_H

#include "batch/batch.h"
#include "common/error.h"
#include "common/log.h"
#include "config/config.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct rb_source rb_source;

/* A bounded replay of a range of the topics (`ragbatch backfill`): where
 * each partition starts and where it ends.  Offsets win over times; with
 * neither, a partition starts at its beginning and ends at the end offset
 * seen at start. */
typedef struct rb_backfill_point {
    const char *topic;
    int32_t partition;
    int64_t offset;
} rb_backfill_point;

typedef struct rb_backfill {
    bool from_beginning;
    int64_t from_time_ms;          /* -1: not by time */
    const rb_backfill_point *from; /* explicit start offsets */
    size_t from_count;
    int64_t to_time_ms;          /* -1: not by time */
    const rb_backfill_point *to; /* explicit end offsets (exclusive) */
    size_t to_count;
} rb_backfill;

typedef struct rb_source_opts {
    const char *job_name;
    const rb_strlist *topics;
    const rb_kv *kafka; /* pass-through properties, without "kafka." */
    size_t kafka_count;
    const rb_log *log;           /* must outlive the source */
    const rb_backfill *backfill; /* NULL: subscribe as a member of the job's group.  Else
                                    assign the range's partitions by hand and commit to
                                    "<group>-backfill", never to the live group */
    bool bounded;                /* --until caught-up or a backfill: a fill also closes as soon
                               as every assigned partition is at its end (see below) */
} rb_source_opts;

/* Creates the consumer, checks that every topic exists (an error names the
 * missing one), records the topics' end offsets (for --until caught-up)
 * and subscribes. */
rb_source *rb_source_new(const rb_source_opts *opts, rb_error *err);

/* Polls records into `b` until it holds `max_records` records or
 * `max_bytes` value bytes, `deadline_ms` (CLOCK_MONOTONIC milliseconds)
 * passes, or *stop becomes non-zero.  Once the deadline has passed (also
 * when it had passed before the call) it still takes, without waiting,
 * the records the consumer has already fetched, then returns.  A bounded
 * source also returns as soon as rb_source_assigned_done() holds (checked
 * when a record reaches its partition's end and whenever a poll waits in
 * vain), so the last batch of a catch-up does not wait for its deadline.
 * A bounded source's window (deadline_ms - now) opens with the first
 * record of an empty batch, not with the call: on a slow machine the
 * group's assignment and the first fetch may take longer than the window,
 * and counting that wait would close the batch between the fetches of two
 * partitions.  An empty bounded batch still returns at `deadline_ms`.
 * Returns 0 (the batch may be empty) or -1 on a fatal consumer error. */
int rb_source_fill(rb_source *s, rb_batch *b, size_t max_records, size_t max_bytes,
                   int64_t deadline_ms, volatile sig_atomic_t *stop, rb_error *err);

/* Commits last offset + 1 of every range of `b` whose partition is still
 * assigned, synchronously.  *committed and *skipped (either may be NULL)
 * count the partitions committed and those skipped as no longer owned. */
int rb_source_commit(rb_source *s, const rb_batch *b, size_t *committed, size_t *skipped,
                     rb_error *err);

/* ---- bounded runs ----
 * A bounded run ends at the end offsets each partition had when the source
 * was created (the snapshot; Spark's availableNow), or at a backfill's
 * range ends. */

/* True when every partition assigned to this consumer has been consumed up
 * to its end, or was committed there already as far as the last
 * rb_source_behind_check() saw; also true with nothing assigned.  Local
 * knowledge only: it says this member has nothing left to fetch, not that
 * the run is done. */
bool rb_source_assigned_done(rb_source *s);

typedef struct rb_source_behind {
    size_t partitions; /* partitions of the snapshot (or range) not done yet */
    int64_t records;   /* records they still lack, summed */
    size_t assigned;   /* partitions assigned to this consumer now */
    char detail[768];  /* "topic[0] committed 12 of 40, topic[3] nothing committed of 17",
                            cut short with ", ..." */
} rb_source_behind;

/* Whether the run is done, from the group's point of view: asks the group
 * coordinator for the committed offsets of every partition of the snapshot
 * (not only the assigned ones: a partition still held by a member that died
 * counts) and reports those below their end offset.  A partition assigned
 * here whose position is at its end but whose committed offset is not (its
 * last commit failed, or the log ends in transaction markers) is committed
 * at its position now: every record before the position was taken into a
 * batch that is settled, since the runner asks between batches (if that
 * commit fails, the partition counts as behind until a later check).  For a
 * backfill (partitions assigned by hand, all here) the positions are
 * compared with the range ends.  Returns 0, or -1 (retriable) when the
 * coordinator does not answer. */
int rb_source_behind_check(rb_source *s, rb_source_behind *out, rb_error *err);

/* ---- holding a batch ----
 * While the batch in hand cannot move on (its write or its dead letters are
 * being retried), the consumer must still be polled: a member that does not
 * poll for max.poll.interval.ms is evicted, its partitions move, and the
 * batch can no longer be committed.  rb_source_hold() pauses every assigned
 * partition and remembers each one's position (the first offset not taken
 * into a batch); rb_source_hold_serve() polls, which serves the group
 * (rebalance callbacks: partitions assigned meanwhile are paused too;
 * partitions revoked meanwhile leave the assignment, so rb_source_commit()
 * skips them); rb_source_release() resumes and seeks every assigned
 * partition back to its remembered position.  Records the polls return
 * anyway (fetched before the pause, or from a partition assigned meanwhile)
 * are dropped and their offset remembered, so the seek fetches them again:
 * nothing is skipped and nothing is taken twice, whatever librdkafka did with
 * its queue while paused. */
int rb_source_hold(rb_source *s, rb_error *err);
/* Polls for at most `wait_ms` (only sleeps when not holding: polling
 * unpaused partitions would lose records).  -1 on a fatal consumer error. */
int rb_source_hold_serve(rb_source *s, int wait_ms, rb_error *err);
/* A no-op when not holding.  -1 (not retriable) if a partition could not be
 * moved back: going on could skip records, so the run must stop. */
int rb_source_release(rb_source *s, rb_error *err);

/* Records behind the high watermark over the assigned partitions, from
 * librdkafka's cached watermarks; -1 when not known yet. */
int64_t rb_source_lag(rb_source *s);

/* Calls `fn` with the lag of each assigned partition, its end offset minus
 * the group's committed offset, both asked of the broker (each query
 * bounded at 500 ms; -1 when it does not answer), for the lag gauges.  The
 * end offsets come through a second client of the source's (never in the
 * group), so the query never waits behind the consumer's own fetch. */
typedef void (*rb_source_lag_fn)(const char *topic, int32_t partition, int64_t lag, void *ctx);
void rb_source_lag_each(rb_source *s, rb_source_lag_fn fn, void *ctx);

/* For a backfill: how much of the range is done, 0..1 (1 when not a
 * backfill). */
double rb_source_backfill_share(rb_source *s);

/* Leaves the group (revoking partitions cleanly) and frees everything.
 * Accepts NULL. */
void rb_source_destroy(rb_source *s);

#endif
