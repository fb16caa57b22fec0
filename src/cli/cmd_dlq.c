/*
 * cmd_dlq.c -- `ragbatch dlq show|stats|replay TOPIC`: what is in a
 * dead-letter topic, each letter's reason, and sending fixed records back.
 */
#include "cli/commands.h"

#include "cli/args.h"
#include "common/buf.h"
#include "common/rfc3339.h"
#include "dlq/letter.h"
#include "dlq/reader.h"
#include "kafka/config.h"
#include "kafka/producer.h"
#include "json/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PROPS 32
#define MAX_CLASSES 64
/* How long a replay waits for the broker to acknowledge what it sent. */
#define REPLAY_FLUSH_TIMEOUT_MS 30000

static void usage(FILE *out) {
    fputs("usage: ragbatch dlq show TOPIC [--stage STAGE] [--since RFC3339] [--limit N] [--json]\n"
          "                        [--bootstrap HOST:PORT] [-X NAME=VALUE]...\n"
          "       ragbatch dlq stats TOPIC [--json] [--bootstrap HOST:PORT] [-X NAME=VALUE]...\n"
          "       ragbatch dlq replay TOPIC [--to SOURCE_TOPIC] [--filter stage=STAGE]\n"
          "                          [--value-file FILE] [--group GROUP] [--dry-run]\n"
          "                          [--bootstrap HOST:PORT] [-X NAME=VALUE]...\n"
          "\n"
          "show    each dead letter, oldest first: where it came from, its key, the stage,\n"
          "        error class, message and JSON path of the failure (the context headers);\n"
          "        --stage, --since (failed at or after) and --limit (the first N that match)\n"
          "        choose which.\n"
          "stats   counts the topic's records by failure stage and error class, with the\n"
          "        oldest and newest failure.\n"
          "replay  produces the records (original key, value and headers; the error headers\n"
          "        dropped) to SOURCE_TOPIC, by default the topic each came from\n"
          "        (__connect.errors.topic), and then commits, for GROUP (default\n"
          "        ragbatch-dlq-replay), the DLQ offsets it replayed, so a second replay\n"
          "        sends nothing twice.  --value-file replaces values: JSON lines\n"
          "        {\"partition\":P,\"offset\":O,\"value\":{...corrected event...}}.\n"
          "        A bounded copy (ragbatch.error.value.truncated) is not replayed without one.\n"
          "        --dry-run lists what would be replayed: position, key, stage and reason.\n"
          "--bootstrap defaults to $RAGBATCH_KAFKA_BOOTSTRAP; -X passes librdkafka properties.\n",
          out);
}

typedef struct dlq_args {
    const char *verb, *topic, *to, *filter_stage, *value_file, *group;
    const char *props[MAX_PROPS];
    size_t nprops;
    bool dry_run, json;
    int64_t since_ms; /* -1: no --since */
    uint64_t limit;   /* 0: no --limit */
    char bootstrap_prop[512];
} dlq_args;

static int parse(int argc, char **argv, dlq_args *a) {
    memset(a, 0, sizeof *a);
    a->group = "ragbatch-dlq-replay";
    const char *bootstrap = getenv("RAGBATCH_KAFKA_BOOTSTRAP");
    enum {
        OPT_BOOTSTRAP = 1,
        OPT_PROP,
        OPT_TO,
        OPT_FILTER,
        OPT_VALUE_FILE,
        OPT_GROUP,
        OPT_DRY_RUN,
        OPT_STAGE,
        OPT_SINCE,
        OPT_LIMIT,
        OPT_JSON
    };
    static const rb_cli_option options[] = {
        {"--bootstrap", 0, true, OPT_BOOTSTRAP},
        {NULL, 'X', true, OPT_PROP},
        {"--to", 0, true, OPT_TO},
        {"--filter", 0, true, OPT_FILTER},
        {"--value-file", 0, true, OPT_VALUE_FILE},
        {"--group", 0, true, OPT_GROUP},
        {"--dry-run", 0, false, OPT_DRY_RUN},
        {"--stage", 0, true, OPT_STAGE},
        {"--since", 0, true, OPT_SINCE},
        {"--limit", 0, true, OPT_LIMIT},
        {"--json", 0, false, OPT_JSON},
    };
    a->since_ms = -1;
    rb_cli_parser p;
    rb_cli_init(&p, options, sizeof options / sizeof options[0], argc, argv);
    rb_error err;
    const char *value;
    int id;
    while ((id = rb_cli_next(&p, &value, &err)) != RB_CLI_END) {
        switch (id) {
        case RB_CLI_ERROR: return rb_cli_usage_error("dlq", &err);
        case RB_CLI_HELP: usage(stdout); return -1;
        case RB_CLI_OPERAND:
            if (!a->verb) {
                a->verb = value;
            } else if (!a->topic) {
                a->topic = value;
            } else {
                fprintf(stderr, "ragbatch dlq: unexpected argument '%s'\n", value);
                return 2;
            }
            break;
        case OPT_BOOTSTRAP: bootstrap = value; break;
        case OPT_PROP:
            /* One slot stays free for bootstrap.servers. */
            if (a->nprops == MAX_PROPS - 1) {
                fprintf(stderr, "ragbatch dlq: more than %d -X options\n", MAX_PROPS - 1);
                return 2;
            }
            if (!strchr(value, '=') || value[0] == '=') {
                fprintf(stderr, "ragbatch dlq: -X takes NAME=VALUE, not '%s'\n", value);
                return 2;
            }
            a->props[a->nprops++] = value;
            break;
        case OPT_TO: a->to = value; break;
        case OPT_FILTER:
            if (strncmp(value, "stage=", 6) != 0 || !value[6]) {
                fprintf(stderr, "ragbatch dlq: --filter takes stage=STAGE, not '%s'\n", value);
                return 2;
            }
            a->filter_stage = value + 6;
            break;
        case OPT_VALUE_FILE: a->value_file = value; break;
        case OPT_GROUP: a->group = value; break;
        case OPT_DRY_RUN: a->dry_run = true; break;
        case OPT_STAGE: a->filter_stage = value; break;
        case OPT_SINCE:
            if (rb_rfc3339_parse(value, &a->since_ms) != 0) {
                fprintf(stderr, "ragbatch dlq: --since takes an RFC 3339 time, not '%s'\n", value);
                return 2;
            }
            break;
        case OPT_LIMIT:
            if (rb_cli_u64("--limit", value, 1, UINT64_MAX, &a->limit, &err) != 0)
                return rb_cli_usage_error("dlq", &err);
            break;
        case OPT_JSON: a->json = true; break;
        }
    }
    if (!a->verb || !a->topic ||
        (strcmp(a->verb, "stats") != 0 && strcmp(a->verb, "replay") != 0 &&
         strcmp(a->verb, "show") != 0)) {
        usage(stderr);
        return 2;
    }
    /* Each option where it means something, so that none is silently ignored. */
    bool show = strcmp(a->verb, "show") == 0, replay = strcmp(a->verb, "replay") == 0;
    const char *misplaced = !show && a->since_ms >= 0             ? "--since"
                            : !show && a->limit                   ? "--limit"
                            : !show && a->filter_stage && !replay ? "--stage"
                            : replay && a->json                   ? "--json"
                            : !replay && a->to                    ? "--to"
                            : !replay && a->value_file            ? "--value-file"
                            : !replay && a->dry_run               ? "--dry-run"
                                                                  : NULL;
    if (misplaced) {
        fprintf(stderr, "ragbatch dlq %s: %s is not an option of this verb\n", a->verb, misplaced);
        return 2;
    }
    if (!bootstrap) {
        fputs("ragbatch dlq: no broker: give --bootstrap or set RAGBATCH_KAFKA_BOOTSTRAP\n",
              stderr);
        return 2;
    }
    snprintf(a->bootstrap_prop, sizeof a->bootstrap_prop, "bootstrap.servers=%s", bootstrap);
    a->props[a->nprops++] = a->bootstrap_prop;
    return 0;
}

/* ---- stats ------------------------------------------------------------- */

typedef struct class_count {
    char stage[32];
    char cls[96];
    size_t n;
} class_count;

typedef struct stats {
    size_t total, no_context;
    int64_t oldest, newest;
    class_count classes[MAX_CLASSES];
    size_t nclasses;
} stats;

static int on_stat(const rb_dlq_record *rec, void *ctx) {
    stats *s = ctx;
    char stage[32], cls[96];
    const char *st = rb_dlq_header(rec, "ragbatch.error.stage", stage, sizeof stage);
    if (!st) st = rb_dlq_header(rec, "__connect.errors.stage", stage, sizeof stage);
    const char *c = rb_dlq_header(rec, "__connect.errors.exception.class.name", cls, sizeof cls);
    s->total++;
    if (!st && !c) s->no_context++;
    if (rec->timestamp_ms >= 0) {
        if (s->oldest < 0 || rec->timestamp_ms < s->oldest) s->oldest = rec->timestamp_ms;
        if (rec->timestamp_ms > s->newest) s->newest = rec->timestamp_ms;
    }
    st = st ? st : "-";
    c = c ? c : "(no context headers)";
    for (size_t i = 0; i < s->nclasses; i++) {
        if (strcmp(s->classes[i].stage, st) == 0 && strcmp(s->classes[i].cls, c) == 0) {
            s->classes[i].n++;
            return 0;
        }
    }
    if (s->nclasses < MAX_CLASSES) {
        class_count *k = &s->classes[s->nclasses++];
        snprintf(k->stage, sizeof k->stage, "%s", st);
        snprintf(k->cls, sizeof k->cls, "%s", c);
        k->n = 1;
    }
    return 0;
}

static void format_time(int64_t ms, char *out, size_t size) {
    if (ms < 0) {
        snprintf(out, size, "-");
        return;
    }
    char when[RB_RFC3339_SIZE];
    rb_rfc3339_format(ms, when);
    snprintf(out, size, "%s", when);
}

/* An RFC 3339 time as a JSON string, or null for none. */
static void put_time(rb_buf *b, int64_t ms) {
    if (ms < 0) {
        rb_buf_puts(b, "null");
        return;
    }
    char when[RB_RFC3339_SIZE];
    rb_rfc3339_format(ms, when);
    rb_buf_json_string(b, when, strlen(when));
}

static int by_count(const void *a, const void *b) {
    size_t x = ((const class_count *)a)->n, y = ((const class_count *)b)->n;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int run_stats(dlq_args *a) {
    rb_error err;
    rb_dlq_reader *r = rb_dlq_reader_new(a->topic, NULL, a->props, a->nprops, &err);
    stats s;
    memset(&s, 0, sizeof s);
    s.oldest = -1;
    s.newest = -1;
    if (!r || rb_dlq_read(r, on_stat, &s, &err) != 0) {
        fprintf(stderr, "ragbatch dlq stats: %s\n", err.msg);
        rb_dlq_reader_destroy(r);
        return 1;
    }
    rb_dlq_reader_destroy(r);
    char oldest[32], newest[32];
    format_time(s.oldest, oldest, sizeof oldest);
    format_time(s.newest, newest, sizeof newest);
    qsort(s.classes, s.nclasses, sizeof s.classes[0], by_count);
    if (a->json) {
        rb_buf b;
        rb_buf_init(&b);
        rb_buf_puts(&b, "{\"topic\":");
        rb_buf_json_string(&b, a->topic, strlen(a->topic));
        rb_buf_printf(&b, ",\"records\":%zu,\"without_context\":%zu,\"oldest\":", s.total,
                      s.no_context);
        put_time(&b, s.oldest);
        rb_buf_puts(&b, ",\"newest\":");
        put_time(&b, s.newest);
        rb_buf_puts(&b, ",\"classes\":[");
        for (size_t i = 0; i < s.nclasses; i++) {
            rb_buf_puts(&b, i ? ",{\"stage\":" : "{\"stage\":");
            rb_buf_json_string(&b, s.classes[i].stage, strlen(s.classes[i].stage));
            rb_buf_puts(&b, ",\"class\":");
            rb_buf_json_string(&b, s.classes[i].cls, strlen(s.classes[i].cls));
            rb_buf_printf(&b, ",\"records\":%zu}", s.classes[i].n);
        }
        rb_buf_puts(&b, "]}\n");
        if (b.data) fputs(b.data, stdout);
        rb_buf_free(&b);
        return 0;
    }
    printf("%s: %zu records; oldest %s, newest %s\n", a->topic, s.total, oldest, newest);
    if (s.nclasses) printf("%8s  %-12s  %s\n", "records", "stage", "error class");
    for (size_t i = 0; i < s.nclasses; i++)
        printf("%8zu  %-12s  %s\n", s.classes[i].n, s.classes[i].stage, s.classes[i].cls);
    return 0;
}

/* ---- show -------------------------------------------------------------- */

typedef struct show {
    const dlq_args *a;
    uint64_t shown, read;
    rb_buf json; /* --json: the records array so far */
} show;

/* A key or value for a terminal: printable ASCII as it is, anything else
 * as \xHH, at most `max` bytes of it. */
static void print_bytes(const char *s, size_t len, size_t max) {
    if (!s) {
        fputs("(null)", stdout);
        return;
    }
    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    if (len > max) printf("... (%zu bytes)", len);
}

static void put_bytes_or_null(rb_buf *b, const char *s, size_t len) {
    if (s)
        rb_buf_json_string(b, s, len);
    else
        rb_buf_puts(b, "null");
}

static int on_show(const rb_dlq_record *rec, void *ctx) {
    show *sh = ctx;
    const dlq_args *a = sh->a;
    sh->read++;
    rb_dlq_letter l;
    rb_dlq_letter_read(rec, &l);
    if (a->filter_stage && strcmp(l.stage, a->filter_stage) != 0) return 0;
    if (a->since_ms >= 0 && rec->timestamp_ms < a->since_ms) return 0;
    sh->shown++;
    if (a->json) {
        rb_buf *b = &sh->json;
        rb_buf_printf(b, "%s{\"partition\":%d,\"offset\":%" PRId64 ",\"time\":",
                      sh->shown > 1 ? "," : "", (int)rec->partition, rec->offset);
        put_time(b, rec->timestamp_ms);
        rb_buf_puts(b, ",\"key\":");
        put_bytes_or_null(b, rec->key, rec->key_len);
        rb_buf_puts(b, ",\"stage\":");
        put_bytes_or_null(b, l.stage[0] ? l.stage : NULL, strlen(l.stage));
        rb_buf_puts(b, ",\"class\":");
        put_bytes_or_null(b, l.cls[0] ? l.cls : NULL, strlen(l.cls));
        rb_buf_puts(b, ",\"message\":");
        put_bytes_or_null(b, l.message[0] ? l.message : NULL, strlen(l.message));
        rb_buf_puts(b, ",\"path\":");
        put_bytes_or_null(b, l.has_path ? l.path : NULL, strlen(l.path));
        rb_buf_puts(b, ",\"source\":{\"topic\":");
        put_bytes_or_null(b, l.topic[0] ? l.topic : NULL, strlen(l.topic));
        rb_buf_printf(b, ",\"partition\":%d,\"offset\":%" PRId64 "},\"truncated\":%s,\"value\":",
                      (int)l.partition, l.offset, l.truncated ? "true" : "false");
        put_bytes_or_null(b, rec->value, rec->value_len);
        rb_buf_putc(b, '}');
    } else {
        char when[32];
        format_time(rec->timestamp_ms, when, sizeof when);
        printf("%s/%d@%" PRId64 "  %s  stage=%s  class=%s\n", a->topic, (int)rec->partition,
               rec->offset, when, l.stage[0] ? l.stage : "-", l.cls[0] ? l.cls : "-");
        if (l.topic[0])
            printf("  from:    %s [%d] offset %" PRId64 "\n", l.topic, (int)l.partition, l.offset);
        fputs("  key:     ", stdout);
        print_bytes(rec->key, rec->key_len, 200);
        putchar('\n');
        if (l.has_path) printf("  path:    \"%s\"\n", l.path);
        if (l.message[0]) printf("  message: %s\n", l.message);
        if (!l.has_context)
            puts(
                "  (no context headers: errors.deadletterqueue.context.headers.enable was false)");
        if (l.truncated) puts("  value:   a bounded copy (ragbatch.error.value.truncated)");
    }
    return a->limit && sh->shown >= a->limit ? 1 : 0;
}

static int run_show(dlq_args *a) {
    rb_error err;
    show sh = {.a = a};
    rb_buf_init(&sh.json);
    rb_dlq_reader *r = rb_dlq_reader_new(a->topic, NULL, a->props, a->nprops, &err);
    int rc = r ? rb_dlq_read(r, on_show, &sh, &err) : -1;
    rb_dlq_reader_destroy(r);
    if (rc < 0) {
        fprintf(stderr, "ragbatch dlq show: %s\n", err.msg);
        rb_buf_free(&sh.json);
        return 1;
    }
    if (a->json) {
        rb_buf out;
        rb_buf_init(&out);
        rb_buf_puts(&out, "{\"topic\":");
        rb_buf_json_string(&out, a->topic, strlen(a->topic));
        rb_buf_printf(&out, ",\"shown\":%" PRIu64 ",\"records\":[", sh.shown);
        if (sh.json.data) rb_buf_append(&out, sh.json.data, sh.json.len);
        rb_buf_puts(&out, "]}\n");
        if (out.data) fputs(out.data, stdout);
        rb_buf_free(&out);
    } else {
        printf("%" PRIu64 " dead letter%s shown%s\n", sh.shown, sh.shown == 1 ? "" : "s",
               rc > 0 ? " (--limit reached)" : "");
    }
    rb_buf_free(&sh.json);
    return 0;
}

/* ---- replay ------------------------------------------------------------ */

typedef struct correction {
    int32_t partition;
    int64_t offset;
    char *value;
} correction;

typedef struct replay {
    dlq_args *a;
    rb_kafka_producer *producer;
    correction *fixes;
    size_t nfixes;
    size_t sent, skipped;
    rb_error err;
} replay;

static int load_corrections(const char *path, correction **out, size_t *n, rb_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return rb_error_set(err, RB_ERR_IO, RB_STAGE_NONE, "cannot read %s", path);
    char *line = NULL;
    size_t cap = 0, count = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    correction *list = NULL;
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (len <= 1) continue;
        rb_json_doc *doc;
        if (rb_json_parse(line, (size_t)len, NULL, &doc, err) != 0) {
            rc = rb_error_prefix(err, "%s:%d", path, lineno);
            break;
        }
        const rb_json *root = rb_json_doc_root(doc);
        const rb_json *p = rb_json_get(root, "partition"), *o = rb_json_get(root, "offset"),
                      *v = rb_json_get(root, "value");
        if (!p || !p->is_integer || !o || !o->is_integer || !v) {
            rc = rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                              "%s:%d: expected {\"partition\":P,\"offset\":O,\"value\":...}", path,
                              lineno);
        } else {
            correction *grown = realloc(list, (count + 1) * sizeof *grown);
            char *val = strndup(v->raw, v->raw_len);
            if (!grown || !val) {
                free(val);
                if (grown) list = grown;
                rc = rb_error_nomem(err, RB_STAGE_NONE, "corrections");
            } else {
                list = grown;
                list[count++] = (correction){(int32_t)p->integer, o->integer, val};
            }
        }
        rb_json_doc_destroy(doc);
    }
    free(line);
    fclose(f);
    *out = list;
    *n = count;
    return rc;
}

static int on_replay(const rb_dlq_record *rec, void *ctx) {
    replay *rp = ctx;
    char stage[32], source[256];
    if (rp->a->filter_stage) {
        const char *st = rb_dlq_header(rec, "ragbatch.error.stage", stage, sizeof stage);
        if (!st || strcmp(st, rp->a->filter_stage) != 0) {
            rp->skipped++;
            return 0;
        }
    }
    const char *to = rp->a->to
                         ? rp->a->to
                         : rb_dlq_header(rec, "__connect.errors.topic", source, sizeof source);
    if (!to) {
        rb_error_set(&rp->err, RB_ERR_ARG, RB_STAGE_DLQ,
                     "record %d/%" PRId64 " has no __connect.errors.topic header: give --to",
                     rec->partition, rec->offset);
        return 1;
    }
    const char *value = rec->value;
    size_t value_len = rec->value_len;
    for (size_t i = 0; i < rp->nfixes; i++) {
        if (rp->fixes[i].partition == rec->partition && rp->fixes[i].offset == rec->offset) {
            value = rp->fixes[i].value;
            value_len = strlen(value);
        }
    }
    /* A bounded copy holds only the start of the value: replaying it would
     * send a different record.  The original is still in its topic. */
    char truncated[8];
    if (value == rec->value &&
        rb_dlq_header(rec, "ragbatch.error.value.truncated", truncated, sizeof truncated) &&
        strcmp(truncated, "true") == 0) {
        char part[16], off[32], size[32], origin[256];
        rb_error_set(&rp->err, RB_ERR_ARG, RB_STAGE_DLQ,
                     "record %d/%" PRId64 " is a bounded copy (the original value is %s bytes): "
                     "give its value in --value-file, or re-process the original at %s [%s] "
                     "offset %s with `ragbatch backfill --from-offsets`",
                     rec->partition, rec->offset,
                     rb_dlq_header(rec, "ragbatch.error.value.size", size, sizeof size) ? size
                                                                                        : "?",
                     rb_dlq_header(rec, "__connect.errors.topic", origin, sizeof origin) ? origin
                                                                                         : "?",
                     rb_dlq_header(rec, "__connect.errors.partition", part, sizeof part) ? part
                                                                                         : "?",
                     rb_dlq_header(rec, "__connect.errors.offset", off, sizeof off) ? off : "?");
        return 1;
    }
    if (rp->a->dry_run) {
        rb_dlq_letter l;
        rb_dlq_letter_read(rec, &l);
        printf("would replay %d/%" PRId64 " to %s%s: key=", rec->partition, rec->offset, to,
               value != rec->value ? " (corrected value)" : "");
        print_bytes(rec->key, rec->key_len, 200);
        printf(" stage=%s reason=%s\n", l.stage[0] ? l.stage : "-",
               l.message[0] ? l.message : "-");
        rp->sent++;
        return 0;
    }
    /* The original headers go back, the error context does not. */
    rb_header *keep = malloc((rec->header_count + 1) * sizeof *keep);
    if (!keep) {
        rb_error_nomem(&rp->err, RB_STAGE_DLQ, "replayed headers");
        return 1;
    }
    size_t nkeep = 0;
    for (size_t i = 0; i < rec->header_count; i++) {
        const char *n = rec->headers[i].name;
        if (strncmp(n, "__connect.errors.", 17) == 0 || strncmp(n, "ragbatch.", 9) == 0) continue;
        keep[nkeep++] = rec->headers[i];
    }
    char from[320];
    snprintf(from, sizeof from, "%s/%d/%" PRId64, rp->a->topic, rec->partition, rec->offset);
    keep[nkeep++] = (rb_header){"ragbatch.replayed.from", from, strlen(from)};
    const rb_kafka_message m = {.topic = to,
                                .key = rec->key,
                                .key_len = rec->key_len,
                                .value = value,
                                .value_len = value_len,
                                .headers = keep,
                                .header_count = nkeep};
    int e = rb_kafka_producer_send(rp->producer, &m, REPLAY_FLUSH_TIMEOUT_MS, &rp->err);
    free(keep);
    if (e) return 1;
    rp->sent++;
    rb_kafka_producer_poll(rp->producer, 0);
    return 0;
}

static int run_replay(dlq_args *a) {
    replay rp;
    memset(&rp, 0, sizeof rp);
    rp.a = a;
    int status = 1;
    rb_dlq_reader *r = NULL;
    if (a->value_file && load_corrections(a->value_file, &rp.fixes, &rp.nfixes, &rp.err) != 0)
        goto done;
    const rb_kafka_client_opts co = {.role = "replay producer",
                                     .stage = RB_STAGE_DLQ,
                                     .client_id = "ragbatch-dlq-replay",
                                     .producer = true};
    rb_kafka_config *conf = rb_kafka_config_new(&co, &rp.err);
    if (!conf) goto done;
    if (rb_kafka_config_set_args(conf, a->props, a->nprops, &rp.err) != 0) {
        rb_kafka_config_destroy(conf);
        goto done;
    }
    const rb_kafka_producer_opts po = {.log_event = "kafka", .stage = RB_STAGE_DLQ};
    if (!(rp.producer = rb_kafka_producer_new(conf, &po, &rp.err))) goto done;
    if (!(r = rb_dlq_reader_new(a->topic, a->group, a->props, a->nprops, &rp.err))) goto done;
    if (rb_dlq_read(r, on_replay, &rp, &rp.err) != 0) goto done;
    if (!a->dry_run) {
        /* Commit the DLQ side only once every replayed record is acknowledged. */
        rb_error ferr;
        const rb_kafka_delivery *d = rb_kafka_producer_delivery(rp.producer);
        if (rb_kafka_producer_flush(rp.producer, REPLAY_FLUSH_TIMEOUT_MS, &ferr) != 0 ||
            d->failed) {
            rb_error_set(&rp.err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                         "%" PRIu64 " replayed records were not acknowledged (%s); DLQ offsets "
                         "not committed",
                         d->failed ? d->failed : d->enqueued - d->delivered,
                         d->failed ? d->first_error : ferr.msg);
            goto done;
        }
        if (rb_dlq_reader_commit(r, &rp.err) != 0) goto done;
    }
    printf("%s %zu record%s from %s%s (%zu filtered out)\n",
           a->dry_run ? "would replay" : "replayed", rp.sent, rp.sent == 1 ? "" : "s", a->topic,
           a->dry_run ? "" : "; DLQ offsets committed", rp.skipped);
    status = 0;
done:
    if (status != 0) fprintf(stderr, "ragbatch dlq replay: %s\n", rp.err.msg);
    rb_dlq_reader_destroy(r);
    rb_kafka_producer_destroy(rp.producer);
    for (size_t i = 0; i < rp.nfixes; i++) free(rp.fixes[i].value);
    free(rp.fixes);
    return status;
}

int rb_cmd_dlq(int argc, char **argv) {
    dlq_args a;
    int st = parse(argc, argv, &a);
    if (st != 0) return st < 0 ? 0 : st;
    if (strcmp(a.verb, "show") == 0) return run_show(&a);
    return strcmp(a.verb, "stats") == 0 ? run_stats(&a) : run_replay(&a);
}
