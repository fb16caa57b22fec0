/*
 * inproc.h -- in-process implementations of the runner's ports
 * (runner/ports.h), so that check_runner drives the real batch loop
 * without Kafka or MongoDB:
 *
 *   - a source that hands out scripted batches, numbers their offsets per
 *     partition as Kafka would, and records every commit together with
 *     what the committed batch's records were at that moment;
 *   - a sink that keeps documents in memory with the version rules of
 *     sink.h (an UPSERT or SOFT_DELETE not newer than the stored version is
 *     STALE, a HARD_DELETE removes, the ops of one call apply in order) and
 *     a journal of what it applied; it can fail whole writes (retriable or
 *     not), reject one id, or fail its reads;
 *   - an embedder whose vectors are a function of the text, which keeps the
 *     texts it was asked for and can fail;
 *   - a DLQ that acknowledges SKIPPED records (DEAD_LETTERED), or refuses
 *     the next sends, retriably (delivering one record each time) or not.
 *
 * Every object is the test's: the ports borrow them (no destroy op), and
 * the test frees them after the run.  One thread.
 */
#ifndef RB_TEST_INPROC_H
#define RB_TEST_INPROC_H

#include "embed/embedder.h"
#include "runner/ports.h"
#include "sink/port.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- source ---- */

typedef struct inproc_msg {
    int32_t partition; /* of topic "t" */
    const char *key;   /* NULL: none */
    const char *value; /* NULL: a Kafka tombstone */
} inproc_msg;

typedef struct inproc_source inproc_source;

inproc_source *inproc_source_new(void);
void inproc_source_free(inproc_source *s);
rb_runner_source inproc_source_port(inproc_source *s);

/* Queues one batch: the next fill hands out exactly these records. */
void inproc_source_batch(inproc_source *s, const inproc_msg *msgs, size_t n);

/* The committed offset of t[partition] (next offset to read), -1 if none. */
int64_t inproc_source_committed(const inproc_source *s, int32_t partition);
/* Commit calls made. */
size_t inproc_source_commits(const inproc_source *s);
/* Records that were open (PENDING, UNCHANGED) or FAILED in a batch when it
 * was committed, and those that were SKIPPED (not dead-lettered). */
size_t inproc_source_unsettled_at_commit(const inproc_source *s);
size_t inproc_source_skipped_at_commit(const inproc_source *s);
/* rb_runner_source hold and release calls; and whether a hold is on. */
size_t inproc_source_holds(const inproc_source *s);
size_t inproc_source_releases(const inproc_source *s);

/* ---- sink ---- */

typedef struct inproc_doc {
    char *id;
    int64_t version;
    bool deleted;
    char *text; /* NULL for a tombstone */
    char text_hash[65];
    char model[128]; /* the model name stored with the vector */
    float vector[8];
    size_t dim;
    int64_t offset; /* source offset of the event that wrote it */
    /* A long text's parent (chunk_count > 0, no vector), or one of its
     * chunks (parent_id set, rb_sink_item.chunk). */
    size_t chunk_count;
    char *parent_id;
    size_t chunk_index;
} inproc_doc;

typedef struct inproc_sink inproc_sink;

inproc_sink *inproc_sink_new(void);
void inproc_sink_free(inproc_sink *s);
rb_sink_port inproc_sink_port(inproc_sink *s);

/* The next `n` writes fail as a whole, retriable or not (every item left
 * PENDING, nothing applied). */
void inproc_sink_fail_writes(inproc_sink *s, int n, bool retriable);
/* Items with this id are FAILED ("rejected by the test"); NULL: none. */
void inproc_sink_reject(inproc_sink *s, const char *id);
/* The next `n` reads fail (retriable), after handing out half the ids. */
void inproc_sink_fail_reads(inproc_sink *s, int n);
/* What rb_sink_port_needs_versions answers (false by default). */
void inproc_sink_needs_versions(inproc_sink *s, bool needs);

/* The port, with remove_chunks (rb_runner_ports.chunks) or without. */
rb_sink_port inproc_sink_port_without_remove(inproc_sink *s);
/* Chunk documents removed by remove_chunks, over every call. */
size_t inproc_sink_removed(const inproc_sink *s);

/* The stored document (tombstones included), or NULL. */
const inproc_doc *inproc_sink_get(const inproc_sink *s, const char *id);
size_t inproc_sink_count(const inproc_sink *s, bool include_deleted);
/* One line per applied op, in order: "upsert p-1 3 stored", "soft p-2 2
 * stored", "hard p-3 deleted", "upsert p-1 2 stale", "upsert p-9 1 failed".
 * Owned by the sink. */
const char *inproc_sink_journal(const inproc_sink *s);
/* Write calls (failed ones included), and those that failed. */
size_t inproc_sink_writes(const inproc_sink *s);
size_t inproc_sink_failed_writes(const inproc_sink *s);
/* Known states the runner passed in items (rb_sink_item.known != UNKNOWN). */
size_t inproc_sink_known_items(const inproc_sink *s);

/* ---- embedder ---- */

#define INPROC_DIM 8

typedef struct inproc_embed_stats {
    size_t calls;
    size_t texts;    /* texts embedded, over every call */
    char seen[4096]; /* every text embedded, each followed by '|' */
    int fail_calls;  /* the next calls that fail (not retriable) */
} inproc_embed_stats;

/* An embedder of INPROC_DIM dimensions, model "inproc-hash", that counts
 * into `stats` (which must outlive it).  Destroy with rb_embedder_destroy. */
rb_embedder *inproc_embedder_new(inproc_embed_stats *stats);

/* The vector the embedder gives `text`. */
void inproc_vector(const char *text, float out[INPROC_DIM]);

/* ---- DLQ ---- */

typedef struct inproc_dlq inproc_dlq;

inproc_dlq *inproc_dlq_new(void);
void inproc_dlq_free(inproc_dlq *d);
rb_runner_dlq inproc_dlq_port(inproc_dlq *d);

/* How the next sends that have SKIPPED records fail. */
typedef enum inproc_dlq_failure {
    INPROC_DLQ_ONE = 0, /* retriable; the first SKIPPED record is acknowledged */
    INPROC_DLQ_NOTHING, /* retriable; nothing is acknowledged */
    INPROC_DLQ_REFUSE   /* not retriable; nothing is acknowledged */
} inproc_dlq_failure;
/* The next `n` sends with SKIPPED records fail as `how` says (a send with
 * none succeeds, as rb_dlq_send does). */
void inproc_dlq_fail(inproc_dlq *d, int n, inproc_dlq_failure how);
/* One line per record delivered: "t[0]@2 validate"; owned by the DLQ. */
const char *inproc_dlq_journal(const inproc_dlq *d);
size_t inproc_dlq_delivered(const inproc_dlq *d);
/* Sends that had SKIPPED records to deliver. */
size_t inproc_dlq_sends(const inproc_dlq *d);

#endif
