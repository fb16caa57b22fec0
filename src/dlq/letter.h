/*
 * letter.h -- a dead letter's context, read back from the headers the DLQ
 * writer sets (copy.c): Kafka Connect's __connect.errors.* and ragbatch's
 * ragbatch.error.*.  For `ragbatch dlq show`, `dlq stats`, `dlq replay
 * --dry-run` and `ragbatch status`.
 *
 * A field whose header is missing (a record written without
 * errors.deadletterqueue.context.headers.enable, or by another writer) is
 * empty, or -1 for the numbers; `has_context` says whether any header of
 * the context was there.  Values longer than a field are cut (the message
 * to RB_DLQ_LETTER_MESSAGE_MAX - 1 bytes).  A plain value, no pointers.
 */
#ifndef RB_DLQ_LETTER_H
#define RB_DLQ_LETTER_H

#include "dlq/reader.h"

#include <stdbool.h>
#include <stdint.h>

#define RB_DLQ_LETTER_MESSAGE_MAX 2048

typedef struct rb_dlq_letter {
    bool has_context;
    char stage[32]; /* ragbatch.error.stage, else __connect.errors.stage */
    char cls[128];  /* __connect.errors.exception.class.name */
    char message[RB_DLQ_LETTER_MESSAGE_MAX]; /* __connect.errors.exception.message */
    bool has_path;
    char path[512];    /* ragbatch.error.path: JSON pointer of the failing value ("" = root) */
    char topic[256];   /* __connect.errors.topic: where the record came from */
    int32_t partition; /* __connect.errors.partition, -1 */
    int64_t offset;    /* __connect.errors.offset, -1 */
    bool truncated;    /* ragbatch.error.value.truncated = true: a bounded copy */
} rb_dlq_letter;

void rb_dlq_letter_read(const rb_dlq_record *rec, rb_dlq_letter *out);

#endif
