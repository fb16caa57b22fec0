/* decode_opts.c -- a job's decode keys as rb_decode_opts; see decode_opts.h. */
#include "runner/decode_opts.h"

void rb_runner_decode_opts(const rb_job_config *cfg, rb_decode_opts *out) {
    *out = (rb_decode_opts){
        .format = cfg->value_format,
        .id_from_key = cfg->id_from == RB_ID_FROM_KEY,
        .id_field = cfg->id_field,
        .key_fields = (const char *const *)cfg->id_key_fields.items,
        .key_field_count = cfg->id_key_fields.count,
    };
}
