/* lint.c -- the offline checks of a job; see lint.h. */
#include "lint/lint.h"

#include "embed/embedder.h"
#include "json/json.h"
#include "kafka/config.h"
#include "lint/schema_fields.h"
#include "runner/embed_opts.h"
#include "transform/template.h"
#include "validate/schema.h"

#include <stdio.h>
#include <string.h>

void rb_lint_report(const rb_job_config *cfg, rb_config_trace *trace, rb_diag_level level,
                    const char *key, const char *msg) {
    const rb_config_origin *o = rb_config_trace_origin(trace, key);
    if (o)
        rb_config_trace_diag(trace, level, o->file, o->line, key, msg);
    else
        rb_config_trace_diag(trace, level, cfg->source_file, 0, key, msg);
}

static void report_error(const rb_job_config *cfg, rb_config_trace *trace, const char *key,
                         const rb_error *err) {
    rb_lint_report(cfg, trace, RB_DIAG_ERROR, key, err->msg);
}

/* One field a key names, checked against the schema document. */
static void check_field(const rb_job_config *cfg, rb_config_trace *trace, const rb_json *root,
                        const char *key, const char *what, const char *field) {
    char why[512];
    if (rb_lint_schema_allows(root, field, why, sizeof why)) return;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s names the field '%s', which %s forbids: %s", what, field,
             cfg->schema_file, why);
    rb_lint_report(cfg, trace, RB_DIAG_ERROR, key, msg);
}

/* Each comma-separated field of `list` (document.id.field may be several). */
static void check_field_list(const rb_job_config *cfg, rb_config_trace *trace, const rb_json *root,
                             const char *key, const char *list) {
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *p = copy; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        while (*p == ' ') p++;
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == ' ') p[--n] = '\0';
        if (*p) check_field(cfg, trace, root, key, key, p);
        p = comma ? comma + 1 : NULL;
    }
}

static void check_schema_and_template(const rb_job_config *cfg, rb_config_trace *trace) {
    rb_error err;
    rb_template *tpl = NULL;
    if (rb_template_compile(cfg->text_template, &tpl, &err) != 0)
        report_error(cfg, trace, "text.template", &err);
    if (!cfg->schema_file[0]) {
        rb_template_destroy(tpl);
        return;
    }
    rb_schema *schema = NULL;
    rb_json_doc *doc = NULL;
    if (rb_schema_load(cfg->schema_file, &schema, &err) != 0) {
        report_error(cfg, trace, "schema.file", &err);
    } else if (rb_json_parse_file(cfg->schema_file, NULL, &doc, &err) == 0) {
        const rb_json *root = rb_json_doc_root(doc);
        for (size_t i = 0; i < rb_template_field_count(tpl); i++)
            check_field(cfg, trace, root, "text.template", "text.template",
                        rb_template_field(tpl, i));
        for (size_t i = 0; i < cfg->metadata_fields.count; i++)
            check_field(cfg, trace, root, "metadata.fields", "metadata.fields",
                        cfg->metadata_fields.items[i]);
        if (cfg->id_from == RB_ID_FROM_VALUE)
            check_field_list(cfg, trace, root, "document.id.field", cfg->id_field);
        check_field_list(cfg, trace, root, "document.version.field", cfg->version_field);
        check_field_list(cfg, trace, root, "document.time.field", cfg->time_field);
        check_field_list(cfg, trace, root, "document.op.field", cfg->op_field);
    }
    rb_json_doc_destroy(doc);
    rb_schema_destroy(schema);
    rb_template_destroy(tpl);
}

/* librdkafka's own verdict on each property, one at a time on a
 * configuration nobody uses, so that every refused one is reported. */
static void check_kafka(const rb_job_config *cfg, rb_config_trace *trace) {
    rb_error err;
    rb_kafka_client_opts ko = {.role = "consumer", .stage = RB_STAGE_CONFIG};
    rb_kafka_config *kc = rb_kafka_config_new(&ko, &err);
    if (!kc) {
        report_error(cfg, trace, "kafka.bootstrap.servers", &err);
        return;
    }
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        char why[512], key[300], msg[1024];
        if (rb_kafka_config_try(kc, cfg->kafka[i].key, cfg->kafka[i].value, why, sizeof why) == 0)
            continue;
        snprintf(key, sizeof key, "kafka.%s", cfg->kafka[i].key);
        snprintf(msg, sizeof msg, "%s: librdkafka refuses it: %s", key, why);
        rb_lint_report(cfg, trace, RB_DIAG_ERROR, key, msg);
    }
    rb_kafka_config_destroy(kc);
}

/* The local model, opened as `run` opens it (weights included). */
static void check_model(const rb_job_config *cfg, rb_config_trace *trace) {
    /* No directory at all is a rule of the table's, reported already. */
    if (cfg->embed_provider != RB_EMBED_LOCAL || !cfg->embed_model_dir[0]) return;
    rb_embed_opts eo;
    rb_runner_embed_opts(cfg, &eo);
    rb_error err;
    rb_embedder *e = rb_embedder_new(&eo, &err);
    if (!e) report_error(cfg, trace, "embed.model.dir", &err);
    rb_embedder_destroy(e);
}

void rb_lint_job(const rb_job_config *cfg, rb_config_trace *trace) {
    check_schema_and_template(cfg, trace);
    check_kafka(cfg, trace);
    check_model(cfg, trace);
}
