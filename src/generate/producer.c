/* producer.c -- the generator's producer; see producer.h. */
#include "generate/producer.h"

#include "kafka/config.h"

#include <string.h>

rb_kafka_producer *rb_gen_producer_new(const char *bootstrap, const char *topic,
                                       const char *const *props, size_t nprops, const rb_log *log,
                                       rb_error *err) {
    const rb_kafka_client_opts co = {.role = "producer",
                                     .stage = RB_STAGE_CONFIG,
                                     .client_id = "ragbatch-generate",
                                     .bootstrap = bootstrap,
                                     .producer = true};
    rb_kafka_config *conf = rb_kafka_config_new(&co, err);
    if (!conf) return NULL;
    int rc = rb_kafka_config_set(conf, "linger.ms", "5", err);
    /* Fail undeliverable messages after a minute, not librdkafka's
     * default five, so a wrong bootstrap address is reported soon. */
    if (rc == 0) rc = rb_kafka_config_set(conf, "message.timeout.ms", "60000", err);
    char why[512];
    /* lz4 is optional in some librdkafka builds; without it, send plain. */
    if (rc == 0 && rb_kafka_config_try(conf, "compression.type", "lz4", why, sizeof why) != 0)
        rb_log_kv(log, RB_LOG_DEBUG, "kafka", RB_LOG_FIELDS(RB_LOG_S("error.message", why)),
                  "lz4 unavailable, sending uncompressed");
    if (rc == 0) rc = rb_kafka_config_set_args(conf, props, nprops, err);
    if (rc != 0) {
        if (err->code == RB_ERR_ARG) err->code = RB_ERR_CONFIG; /* a usage error all the same */
        rb_kafka_config_destroy(conf);
        return NULL;
    }
    const rb_kafka_producer_opts po = {.topic = topic,
                                       .log = log,
                                       .log_event = "kafka",
                                       .stage = RB_STAGE_NONE};
    return rb_kafka_producer_new(conf, &po, err);
}

int rb_gen_producer_send(rb_kafka_producer *p, const char *key, size_t key_len, const char *value,
                         size_t value_len, const char *malformed_kind, rb_error *err) {
    const rb_header mark = {RB_GEN_MALFORMED_HEADER, malformed_kind,
                            malformed_kind ? strlen(malformed_kind) : 0};
    const rb_kafka_message m = {.key = key,
                                .key_len = key_len,
                                .value = value,
                                .value_len = value_len,
                                .headers = malformed_kind ? &mark : NULL,
                                .header_count = malformed_kind ? 1 : 0};
    return rb_kafka_producer_send(p, &m, 0, err) == 0 ? 0 : -1;
}
