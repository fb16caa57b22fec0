/* copy.c -- dead-letter headers, bounded copies, refusal classes; see copy.h. */
#include "dlq/copy.h"

#include "config.h"
#include "dlq/dlq.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

int rb_dlq_sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        out[0] = '\0';
        return -1;
    }
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

static void add_header(rd_kafka_headers_t *h, const char *name, const char *value) {
    rd_kafka_header_add(h, name, -1, value, -1);
}

static void add_context(rd_kafka_headers_t *h, const rb_dlq_context *ctx, const rb_record *rec) {
    char num[32];
    const char *reason = rec->fail_reason ? rec->fail_reason : "";
    add_header(h, "__connect.errors.topic", rec->topic);
    snprintf(num, sizeof num, "%" PRId32, rec->partition);
    add_header(h, "__connect.errors.partition", num);
    snprintf(num, sizeof num, "%" PRId64, rec->offset);
    add_header(h, "__connect.errors.offset", num);
    add_header(h, "__connect.errors.connector.name", ctx->job_name);
    add_header(h, "__connect.errors.task.id", ctx->task_id);
    add_header(h, "__connect.errors.stage", rb_dlq_connect_stage(rec->fail_stage));
    char cls[64];
    snprintf(cls, sizeof cls, "ragbatch.stage.%s", rb_stage_name(rec->fail_stage));
    add_header(h, "__connect.errors.class.name", cls);
    add_header(h, "__connect.errors.exception.class.name", rb_dlq_error_class(rec->fail_stage));
    add_header(h, "__connect.errors.exception.message", reason);
    /* There is no Java stack to give; this is ragbatch's equivalent: where
     * in the pipeline, on what record, and why. */
    char trace[1400];
    snprintf(trace, sizeof trace,
             "%s: %s\n\tat ragbatch %s stage %s (job %s)\n\tat %s [%" PRId32 "] offset %" PRId64,
             rb_dlq_error_class(rec->fail_stage), reason, PACKAGE_VERSION,
             rb_stage_name(rec->fail_stage), ctx->job_name, rec->topic, rec->partition,
             rec->offset);
    add_header(h, "__connect.errors.exception.stacktrace", trace);
    add_header(h, "ragbatch.error.stage", rb_stage_name(rec->fail_stage));
    /* A schema failure always has a place: "" is the document itself. */
    if (rec->fail_path[0] || rec->fail_stage == RB_STAGE_VALIDATE)
        add_header(h, "ragbatch.error.path", rec->fail_path);
    /* A value in the Schema Registry wire format names its schema: the id
     * says which schema a reader needs, whether or not it was found. */
    if (rec->value && rec->value_len >= 5 && rec->value[0] == 0) {
        const unsigned char *v = (const unsigned char *)rec->value;
        snprintf(num, sizeof num, "%" PRIu32,
                 (uint32_t)v[1] << 24 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 8 | v[4]);
        add_header(h, "ragbatch.error.schema.id", num);
    }
    add_header(h, "ragbatch.runner.version", PACKAGE_VERSION);
}

rd_kafka_headers_t *rb_dlq_headers(const rb_dlq_context *ctx, const rb_record *rec,
                                   const rb_dlq_truncation *trunc) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(rec->header_count + 18);
    for (size_t i = 0; i < rec->header_count; i++)
        rd_kafka_header_add(h, rec->headers[i].name, -1, rec->headers[i].value,
                            rec->headers[i].value ? (ssize_t)rec->headers[i].value_len : 0);
    if (ctx->context_headers || trunc) add_context(h, ctx, rec);
    if (trunc) {
        char num[32], sha[65];
        size_t len = rec->value ? rec->value_len : 0;
        add_header(h, "ragbatch.error.value.truncated", "true");
        snprintf(num, sizeof num, "%zu", len);
        add_header(h, "ragbatch.error.value.size", num);
        if (rb_dlq_sha256_hex(rec->value ? rec->value : "", len, sha) == 0)
            add_header(h, "ragbatch.error.value.sha256", sha);
        add_header(h, "ragbatch.error.dlq.reason", trunc->reason ? trunc->reason : "");
    }
    return h;
}

/* Largest size of a varint (zig-zag varlong) in a v2 record. */
#define VARINT_MAX 5
#define VARLONG_MAX 10
/* The RecordBatch header: base offset .. record count. */
#define BATCH_HEADER 61

size_t rb_dlq_wire_size(size_t key_len, size_t value_len, const rd_kafka_headers_t *headers) {
    /* length, attributes, timestamp delta, offset delta, key, value, header count */
    size_t n = BATCH_HEADER + VARINT_MAX + 1 + VARLONG_MAX + VARINT_MAX + VARINT_MAX + key_len +
               VARINT_MAX + value_len + VARINT_MAX;
    const char *name;
    const void *value;
    size_t size;
    for (size_t i = 0; headers && rd_kafka_header_get_all(headers, i, &name, &value, &size) == 0;
         i++)
        n += VARINT_MAX + strlen(name) + VARINT_MAX + size;
    return n;
}

long rb_dlq_copy_room(size_t limit, size_t key_len, const rd_kafka_headers_t *headers) {
    size_t fixed = rb_dlq_wire_size(key_len, 0, headers);
    return fixed > limit ? -1 : (long)(limit - fixed);
}
