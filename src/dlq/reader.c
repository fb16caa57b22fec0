#include "dlq/reader.h"

#include "kafka/client.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#define READER_TIMEOUT_MS 10000

struct rb_dlq_reader {
    rd_kafka_t *rk;
    char *topic;
    bool grouped;
    rd_kafka_topic_partition_list_t *read; /* next offset per partition */
};

rb_dlq_reader *rb_dlq_reader_new(const char *topic, const char *group, const char *const *props,
                                 size_t nprops, rb_error *err) {
    rb_dlq_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->topic = strdup(topic))) {
        free(r);
        rb_error_nomem(err, RB_STAGE_DLQ, "DLQ reader");
        return NULL;
    }
    r->grouped = group != NULL;
    /* A group id is needed to commit; without one, a private throwaway
     * group that never commits.  The user's properties come after these
     * defaults and win. */
    const rb_kafka_client_opts co = {.role = "DLQ reader", .stage = RB_STAGE_DLQ};
    rb_kafka_config *conf = rb_kafka_config_new(&co, err);
    if (!conf ||
        rb_kafka_config_set(conf, "group.id", group ? group : "ragbatch-dlq-inspect", err) ||
        rb_kafka_config_set(conf, "enable.auto.commit", "false", err) ||
        rb_kafka_config_set(conf, "auto.offset.reset", "earliest", err) ||
        rb_kafka_config_set_args(conf, props, nprops, err)) {
        rb_kafka_config_destroy(conf);
        rb_dlq_reader_destroy(r);
        return NULL;
    }
    /* rb_kafka_config_client consumes the configuration either way. */
    if (!(r->rk = rb_kafka_config_client(conf, RD_KAFKA_CONSUMER, err))) {
        rb_dlq_reader_destroy(r);
        return NULL;
    }
    r->read = rd_kafka_topic_partition_list_new(4);
    return r;
}

/* Collects the headers of `m` into `out` (up to `cap`). */
static size_t headers_of(rd_kafka_message_t *m, rb_header *out, size_t cap) {
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) || !h) return 0;
    size_t n = 0;
    const char *name;
    const void *value;
    size_t len;
    while (n < cap && rd_kafka_header_get_all(h, n, &name, &value, &len) == 0) {
        out[n] = (rb_header){name, value, len};
        n++;
    }
    return n;
}

int rb_dlq_read(rb_dlq_reader *r, rb_dlq_record_fn fn, void *ctx, rb_error *err) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, r->topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(r->rk, 0, rkt, &md, READER_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (e)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ, "metadata of '%s': %s",
                                      r->topic, rd_kafka_err2str(e));
    if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
        rd_kafka_metadata_destroy(md);
        return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_DLQ, "topic '%s' does not exist",
                            r->topic);
    }
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(nparts);
    int64_t *end = calloc((size_t)nparts, sizeof *end);
    int32_t *ids = calloc((size_t)nparts, sizeof *ids);
    int rc = 0;
    if (!end || !ids) rc = rb_error_nomem(err, RB_STAGE_DLQ, "partitions");
    for (int p = 0; rc == 0 && p < nparts; p++) {
        int64_t low, high;
        ids[p] = md->topics[0].partitions[p].id;
        e = rd_kafka_query_watermark_offsets(r->rk, r->topic, ids[p], &low, &high,
                                             READER_TIMEOUT_MS);
        if (e)
            rc = rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ, "end offsets: %s",
                                        rd_kafka_err2str(e));
        end[p] = high;
        rd_kafka_topic_partition_list_add(assign, r->topic, ids[p])->offset =
            r->grouped ? RD_KAFKA_OFFSET_STORED : RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
    if (rc == 0 && (e = rd_kafka_assign(r->rk, assign)))
        rc = rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_DLQ, "assign: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(assign);

    /* Done when every partition's position reaches its end offset. */
    rb_header hdrs[64];
    while (rc == 0) {
        rd_kafka_topic_partition_list_t *pos = NULL;
        rd_kafka_assignment(r->rk, &pos);
        if (pos) rd_kafka_position(r->rk, pos);
        bool done = true;
        for (int p = 0; pos && p < pos->cnt; p++) {
            int64_t at = pos->elems[p].offset;
            int64_t target = 0;
            for (int q = 0; q < nparts; q++)
                if (ids[q] == pos->elems[p].partition) target = end[q];
            if (target > 0 && at < target) {
                /* An unknown position with a committed offset at the end is done too. */
                if (at < 0 && r->grouped) {
                    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(1);
                    rd_kafka_topic_partition_list_add(c, r->topic, pos->elems[p].partition);
                    if (rd_kafka_committed(r->rk, c, READER_TIMEOUT_MS) == 0 &&
                        c->elems[0].offset >= target) {
                        rd_kafka_topic_partition_list_destroy(c);
                        continue;
                    }
                    rd_kafka_topic_partition_list_destroy(c);
                }
                done = false;
            }
        }
        if (pos) rd_kafka_topic_partition_list_destroy(pos);
        if (done) break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 500);
        if (!m) continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                rc = rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ, "reading '%s': %s",
                                            r->topic, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        rb_dlq_record rec = {
            .partition = m->partition,
            .offset = m->offset,
            .timestamp_ms = rd_kafka_message_timestamp(m, NULL),
            .key = m->key,
            .key_len = m->key_len,
            .value = m->payload,
            .value_len = m->len,
            .headers = hdrs,
            .header_count = headers_of(m, hdrs, sizeof hdrs / sizeof hdrs[0]),
        };
        int stop = fn(&rec, ctx);
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(r->read, r->topic, m->partition);
        if (!tp) tp = rd_kafka_topic_partition_list_add(r->read, r->topic, m->partition);
        tp->offset = m->offset + 1;
        rd_kafka_message_destroy(m);
        if (stop) {
            rc = stop;
            break;
        }
    }
    free(end);
    free(ids);
    return rc;
}

int rb_dlq_reader_commit(rb_dlq_reader *r, rb_error *err) {
    if (!r->grouped || r->read->cnt == 0) return 0;
    rd_kafka_resp_err_t e = rd_kafka_commit(r->rk, r->read, 0);
    if (e)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_COMMIT,
                                      "committing DLQ offsets: %s", rd_kafka_err2str(e));
    return 0;
}

void rb_dlq_reader_destroy(rb_dlq_reader *r) {
    if (!r) return;
    if (r->rk) {
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
    }
    if (r->read) rd_kafka_topic_partition_list_destroy(r->read);
    free(r->topic);
    free(r);
}

const char *rb_dlq_header(const rb_dlq_record *rec, const char *name, char *buf, size_t size) {
    for (size_t i = rec->header_count; i-- > 0;) {
        if (strcmp(rec->headers[i].name, name) != 0 || !rec->headers[i].value) continue;
        size_t n = rec->headers[i].value_len < size - 1 ? rec->headers[i].value_len : size - 1;
        memcpy(buf, rec->headers[i].value, n);
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}
