/*
 * cmd_check.c -- `ragbatch check JOB`: the job file linted as `run` would
 * meet it, every problem at once, each at its file and line.
 */
#include "cli/commands.h"

#include "cli/args.h"
#include "common/buf.h"
#include "config/config.h"
#include "config/trace.h"
#include "lint/lint.h"
#include "sink/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 5000

static const char usage[] =
    "usage: ragbatch check JOBFILE [--set KEY=VALUE]... [--json] [--explain] [--connect]\n"
    "Lints the job: every key against the table, kafka.* through librdkafka's own checks,\n"
    "the schema and the text template compiled, the fields they name against the schema,\n"
    "the local model opened.  Every problem is reported, each at its file:line.  When the\n"
    "job is valid its effective configuration is printed (secrets masked).\n"
    "  --set KEY=VALUE   override a job key (repeatable)\n"
    "  --json            one JSON object on stdout: diagnostics (and with --explain the\n"
    "                    configuration)\n"
    "  --explain         each effective value with where it came from: file:line (and the\n"
    "                    include that read the file), --set, a config provider, or default\n"
    "  --connect         also reach Kafka (brokers, topics, the DLQ topic), MongoDB and the\n"
    "                    schema registry, each within 5 s\n"
    "Exit status: 0 valid (warnings allowed), 2 errors found or usage error.\n";

enum { OPT_SET = 1, OPT_JSON, OPT_EXPLAIN, OPT_CONNECT };

static const rb_cli_option options[] = {
    {"--set", 0, true, OPT_SET},
    {"--json", 0, false, OPT_JSON},
    {"--explain", 0, false, OPT_EXPLAIN},
    {"--connect", 0, false, OPT_CONNECT},
};

typedef struct check_args {
    const char *path;
    char *sets[RB_CLI_MAX_SETS];
    size_t nsets;
    bool json, explain, connect, help;
} check_args;

static int parse(int argc, char **argv, check_args *a) {
    memset(a, 0, sizeof *a);
    rb_cli_parser p;
    rb_cli_init(&p, options, sizeof options / sizeof options[0], argc, argv);
    rb_error err;
    const char *value;
    int id;
    while ((id = rb_cli_next(&p, &value, &err)) != RB_CLI_END) {
        switch (id) {
        case RB_CLI_ERROR: return rb_cli_usage_error("check", &err);
        case RB_CLI_HELP: a->help = true; break;
        case RB_CLI_OPERAND:
            if (a->path) {
                fprintf(stderr, "ragbatch check: one job file only ('%s' and '%s')\n", a->path,
                        value);
                return 2;
            }
            a->path = value;
            break;
        case OPT_SET:
            if (rb_cli_add_set("check", a->sets, &a->nsets, value) != 0) return 2;
            break;
        case OPT_JSON: a->json = true; break;
        case OPT_EXPLAIN: a->explain = true; break;
        case OPT_CONNECT: a->connect = true; break;
        }
    }
    if (!a->path && !a->help) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

/* "FILE:LINE (included at X:3) via ${env:NAME}", "--set" or "default". */
static void origin_text(const rb_config_trace *t, const char *key, rb_buf *b) {
    const rb_config_origin *o = rb_config_trace_origin(t, key);
    if (!o) {
        /* job.name's default is not the table's: it is the file's name. */
        rb_buf_puts(b, strcmp(key, "job.name") == 0 ? "default (the job file's name)" : "default");
        return;
    }
    if (o->line > 0)
        rb_buf_printf(b, "%s:%d", o->file, o->line);
    else
        rb_buf_puts(b, o->file);
    if (o->included_from) rb_buf_printf(b, " (included at %s)", o->included_from);
    if (o->providers) rb_buf_printf(b, " via %s", o->providers);
}

typedef struct explain_ctx {
    const rb_config_trace *trace;
    bool explain;
    rb_buf *json; /* NULL: text on stdout */
    size_t n;
} explain_ctx;

static void put_string_or_null(rb_buf *b, const char *s) {
    if (s)
        rb_buf_json_string(b, s, strlen(s));
    else
        rb_buf_puts(b, "null");
}

static void on_entry(const char *key, const char *shown, void *arg) {
    explain_ctx *c = arg;
    if (!c->json) {
        if (!c->explain) {
            printf("%s = %s\n", key, shown);
            return;
        }
        rb_buf where;
        rb_buf_init(&where);
        origin_text(c->trace, key, &where);
        printf("%s = %s    # %s\n", key, shown, where.data ? where.data : "");
        rb_buf_free(&where);
        return;
    }
    rb_buf *b = c->json;
    const rb_config_origin *o = rb_config_trace_origin(c->trace, key);
    rb_buf_puts(b, c->n++ ? ",{\"key\":" : "{\"key\":");
    rb_buf_json_string(b, key, strlen(key));
    rb_buf_puts(b, ",\"value\":");
    rb_buf_json_string(b, shown, strlen(shown));
    if (!o) {
        rb_buf_puts(b, ",\"source\":\"default\"}");
        return;
    }
    rb_buf_printf(b, ",\"source\":\"%s\",\"file\":", o->line > 0 ? "file" : "set");
    put_string_or_null(b, o->line > 0 ? o->file : NULL);
    rb_buf_printf(b, ",\"line\":%d,\"included_from\":", o->line);
    put_string_or_null(b, o->included_from);
    rb_buf_puts(b, ",\"providers\":");
    put_string_or_null(b, o->providers);
    rb_buf_putc(b, '}');
}

static const char *level_name(rb_diag_level l) { return l == RB_DIAG_ERROR ? "error" : "warning"; }

static void print_text(const rb_config_trace *t, FILE *out) {
    for (size_t i = 0; i < t->ndiags; i++) {
        const rb_diag *d = &t->diags[i];
        if (d->line > 0)
            fprintf(out, "%s:%d: %s: %s\n", d->file, d->line, level_name(d->level), d->msg);
        else
            fprintf(out, "%s: %s: %s\n", d->file, level_name(d->level), d->msg);
    }
}

static void put_json(const check_args *a, const rb_job_config *cfg, const rb_config_trace *t,
                     size_t errors) {
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_puts(&b, "{\"file\":");
    rb_buf_json_string(&b, a->path, strlen(a->path));
    rb_buf_printf(&b, ",\"valid\":%s,\"errors\":%zu,\"warnings\":%zu,\"diagnostics\":[",
                  errors ? "false" : "true", errors, rb_config_trace_count(t, RB_DIAG_WARNING));
    for (size_t i = 0; i < t->ndiags; i++) {
        const rb_diag *d = &t->diags[i];
        rb_buf_printf(&b, "%s{\"level\":\"%s\",\"file\":", i ? "," : "", level_name(d->level));
        rb_buf_json_string(&b, d->file, strlen(d->file));
        rb_buf_printf(&b, ",\"line\":%d,\"key\":", d->line);
        rb_buf_json_string(&b, d->key, strlen(d->key));
        rb_buf_puts(&b, ",\"message\":");
        rb_buf_json_string(&b, d->msg, strlen(d->msg));
        rb_buf_putc(&b, '}');
    }
    rb_buf_putc(&b, ']');
    if (a->explain) {
        rb_buf_puts(&b, ",\"config\":[");
        explain_ctx c = {t, true, &b, 0};
        rb_job_config_each(cfg, on_entry, &c);
        rb_buf_putc(&b, ']');
    }
    rb_buf_puts(&b, "}\n");
    if (b.data) fputs(b.data, stdout);
    rb_buf_free(&b);
}

int rb_cmd_check(int argc, char **argv) {
    check_args a;
    int status = parse(argc, argv, &a);
    if (status != 0) return status;
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    rb_config_trace trace;
    rb_config_trace_init(&trace);
    rb_job_config cfg;
    rb_error err;
    if (rb_job_config_init(&cfg, &err) != 0) {
        fprintf(stderr, "ragbatch: %s\n", err.msg);
        return 1;
    }
    cfg.trace = &trace;
    /* With the trace attached these record every problem and go on; their
     * return values only repeat the first. */
    (void)rb_job_config_load(&cfg, a.path, &err);
    for (size_t i = 0; i < a.nsets; i++) (void)rb_job_config_set(&cfg, a.sets[i], "--set", &err);
    (void)rb_job_config_check(&cfg, &err);
    /* A file that could not be read has nothing more to lint. */
    bool readable = access(a.path, R_OK) == 0;
    if (readable) rb_lint_job(&cfg, &trace);
    if (readable && a.connect) {
        rb_sink_global_init();
        rb_lint_connect(&cfg, &trace, CONNECT_TIMEOUT_MS, a.json ? NULL : stdout);
        rb_sink_global_cleanup();
    }
    size_t errors = rb_config_trace_count(&trace, RB_DIAG_ERROR);
    if (trace.nomem) {
        fputs("ragbatch check: out of memory: the report is incomplete\n", stderr);
        errors++;
    }
    if (a.json) {
        put_json(&a, &cfg, &trace, errors);
    } else {
        print_text(&trace, stderr);
        if (errors) {
            fprintf(stderr, "ragbatch check: %s: %zu error%s, %zu warning%s\n", a.path, errors,
                    errors == 1 ? "" : "s", rb_config_trace_count(&trace, RB_DIAG_WARNING),
                    rb_config_trace_count(&trace, RB_DIAG_WARNING) == 1 ? "" : "s");
        } else {
            printf("# %s: valid\n", cfg.source_file);
            explain_ctx c = {&trace, a.explain, NULL, 0};
            rb_job_config_each(&cfg, on_entry, &c);
        }
    }
    cfg.trace = NULL;
    rb_job_config_free(&cfg);
    rb_config_trace_free(&trace);
    return errors ? 2 : 0;
}
