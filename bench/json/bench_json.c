/*
 * bench_json.c -- the decode cost of the worst record values we can build,
 * per shape, at max.message.bytes (1 MiB by default): rb_json_parse with
 * the limits the runner uses, then the product schema on what parsed.
 * Every shape is one value of at most SIZE bytes; the figure is the best
 * of REPEAT runs (the least disturbed by other work on the machine), and
 * the worst of them is printed too.
 *
 *   bench_json SCHEMA [SIZE] [REPEAT]     (defaults 1048576, 5)
 *
 * Not a test: it prints a table for bench/README.md.
 */
#include "common/buf.h"
#include "json/json.h"
#include "validate/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Repeats `unit` while the result stays within `size` minus `tail_room`. */
static void repeat(rb_buf *b, const char *unit, size_t size, size_t tail_room) {
    size_t n = strlen(unit);
    while (b->len + n + tail_room <= size) rb_buf_append(b, unit, n);
}

/* "[[[[...]]]]": nesting far past any limit. */
static void deep_arrays(rb_buf *b, size_t size) {
    size_t half = size / 2;
    for (size_t i = 0; i < half; i++) rb_buf_putc(b, '[');
    for (size_t i = 0; i < half; i++) rb_buf_putc(b, ']');
}

/* {"a":{"a":{... 1 ...}}}: objects nested past any limit. */
static void deep_objects(rb_buf *b, size_t size) {
    size_t levels = (size - 1) / 6;
    for (size_t i = 0; i < levels; i++) rb_buf_puts(b, "{\"a\":");
    rb_buf_putc(b, '1');
    for (size_t i = 0; i < levels; i++) rb_buf_putc(b, '}');
}

/* Unclosed: a megabyte of '[' (the tokenizer sees no closing bracket). */
static void unclosed_arrays(rb_buf *b, size_t size) {
    for (size_t i = 0; i < size; i++) rb_buf_putc(b, '[');
}

/* Nesting just inside the limit, again and again: [[[..63..]]],[[[..]]],...
 * The closing brackets of each run make jsmn walk back up its parents. */
static void deep_at_limit(rb_buf *b, size_t size, size_t depth) {
    rb_buf unit;
    rb_buf_init(&unit);
    for (size_t i = 0; i + 1 < depth; i++) rb_buf_putc(&unit, '[');
    for (size_t i = 0; i + 1 < depth; i++) rb_buf_putc(&unit, ']');
    rb_buf_putc(&unit, ',');
    rb_buf_putc(b, '[');
    repeat(b, unit.data, size, 2);
    if (b->data[b->len - 1] == ',') b->len--;
    rb_buf_putc(b, ']');
    rb_buf_free(&unit);
}

/* [0,0,0,...]: the most tokens a megabyte holds. */
static void tiny_tokens(rb_buf *b, size_t size) {
    rb_buf_puts(b, "[0");
    repeat(b, ",0", size, 1);
    rb_buf_putc(b, ']');
}

/* [{},{},...]: the most containers. */
static void tiny_objects(rb_buf *b, size_t size) {
    rb_buf_puts(b, "[{}");
    repeat(b, ",{}", size, 1);
    rb_buf_putc(b, ']');
}

/* One string of escapes: surrogate pairs, \u, and the short ones. */
static void escaped_string(rb_buf *b, size_t size) {
    rb_buf_puts(b, "{\"product_id\":\"p\",\"event_type\":\"created\",\"event_time\":"
                   "\"2026-11-24T10:00:00Z\",\"name\":\"n\",\"description\":\"");
    repeat(b, "\\ud83d\\ude00\\u00e9\\n\\\"\\\\\\/\\t", size, 2);
    rb_buf_puts(b, "\"}");
}

/* A number of a megabyte of digits: overflows a double. */
static void huge_integer(rb_buf *b, size_t size) {
    rb_buf_putc(b, '[');
    for (size_t i = 0; i + 2 < size; i++) rb_buf_putc(b, i ? '0' : '1');
    rb_buf_putc(b, ']');
}

/* 0.000...0001: a megabyte of fraction that underflows to 0. */
static void huge_fraction(rb_buf *b, size_t size) {
    rb_buf_puts(b, "[0.");
    for (size_t i = 0; b->len + 2 < size; i++) rb_buf_putc(b, '0');
    rb_buf_puts(b, "1]");
}

/* 1.2345678901...: a megabyte of significant digits (exact rounding has to
 * read them all). */
static void long_mantissa(rb_buf *b, size_t size) {
    rb_buf_puts(b, "[1.");
    for (size_t i = 0; b->len + 1 < size; i++) rb_buf_putc(b, (char)('0' + (i * 7 + 3) % 10));
    rb_buf_putc(b, ']');
}

/* [1e308,...]: many numbers near the top of the range. */
static void many_numbers(rb_buf *b, size_t size) {
    rb_buf_puts(b, "[1.7976931348623157e308");
    repeat(b, ",-2.2250738585072014e-308", size, 1);
    rb_buf_putc(b, ']');
}

/* An event whose attributes object has as many keys as fit. */
static void many_keys(rb_buf *b, size_t size) {
    rb_buf_puts(b, "{\"product_id\":\"p\",\"event_type\":\"created\",\"event_time\":"
                   "\"2026-11-24T10:00:00Z\",\"name\":\"n\",\"attributes\":{\"k0\":\"v\"");
    char unit[32];
    for (size_t i = 1;; i++) {
        int n = snprintf(unit, sizeof unit, ",\"k%zu\":\"v\"", i);
        if (b->len + (size_t)n + 2 > size) break;
        rb_buf_append(b, unit, (size_t)n);
    }
    rb_buf_puts(b, "}}");
}

/* Sixteen keys (the pairwise duplicate check) that share a long prefix. */
static void long_similar_keys(rb_buf *b, size_t size) {
    size_t keylen = (size - 64) / 16 - 8;
    rb_buf_putc(b, '{');
    for (int k = 0; k < 16; k++) {
        rb_buf_puts(b, k ? ",\"" : "\"");
        for (size_t i = 0; i + 2 < keylen; i++) rb_buf_putc(b, 'k');
        rb_buf_printf(b, "%02d\":0", k);
    }
    rb_buf_putc(b, '}');
}

/* Many keys sharing a long prefix (the sorted duplicate check). */
static void many_similar_keys(rb_buf *b, size_t size) {
    const size_t prefix = 1000;
    rb_buf_putc(b, '{');
    for (size_t k = 0;; k++) {
        if (b->len + prefix + 16 > size) break;
        rb_buf_puts(b, k ? ",\"" : "\"");
        for (size_t i = 0; i < prefix; i++) rb_buf_putc(b, 'k');
        rb_buf_printf(b, "%06zu\":0", k);
    }
    rb_buf_putc(b, '}');
}

/* A plain product event with a megabyte of description. */
static void long_description(rb_buf *b, size_t size) {
    rb_buf_puts(b, "{\"product_id\":\"p\",\"event_type\":\"created\",\"event_time\":"
                   "\"2026-11-24T10:00:00Z\",\"name\":\"n\",\"description\":\"");
    repeat(b, "warm wool jacket ", size, 2);
    rb_buf_puts(b, "\"}");
}

/* A megabyte of white space around one value. */
static void whitespace(rb_buf *b, size_t size) {
    for (size_t i = 0; i + 3 < size; i++) rb_buf_putc(b, i % 2 ? ' ' : '\n');
    rb_buf_puts(b, "[1]");
}

/* A syntax error at the very end of a megabyte (the message counts lines
 * and columns up to it). */
static void late_error(rb_buf *b, size_t size) {
    rb_buf_puts(b, "[\n");
    repeat(b, "\"\\u00e9x\u00e9\",\n", size, 4);
    rb_buf_puts(b, "1,]");
}

typedef struct shape {
    const char *name;
    void (*build)(rb_buf *b, size_t size);
} shape;

static void deep_at_default(rb_buf *b, size_t size) { deep_at_limit(b, size, 64); }

static const shape shapes[] = {
    {"deep arrays [[[...]]]", deep_arrays},
    {"deep objects {\"a\":{...}}", deep_objects},
    {"unclosed [[[[...", unclosed_arrays},
    {"depth 64 repeated", deep_at_default},
    {"tiny tokens [0,0,...]", tiny_tokens},
    {"tiny objects [{},{},...]", tiny_objects},
    {"string of escapes", escaped_string},
    {"huge integer 1000...", huge_integer},
    {"huge fraction 0.000...1", huge_fraction},
    {"long mantissa 1.2345...", long_mantissa},
    {"many extreme numbers", many_numbers},
    {"many keys (attributes)", many_keys},
    {"16 long similar keys", long_similar_keys},
    {"many similar keys", many_similar_keys},
    {"long description", long_description},
    {"white space", whitespace},
    {"error at the end", late_error},
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: bench_json SCHEMA [SIZE] [REPEAT]\n", stderr);
        return 2;
    }
    size_t size = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 1048576;
    int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
    rb_error err;
    rb_schema *schema = NULL;
    if (rb_schema_load(argv[1], &schema, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("%-26s %9s %9s %9s %9s  %s\n", "shape", "bytes", "parse ms", "worst ms", "+schema",
           "outcome");
    int over = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        rb_buf b;
        rb_buf_init(&b);
        shapes[s].build(&b, size);
        double best = 1e18, worst = 0, best_schema = 1e18;
        char outcome[120] = "";
        for (int r = 0; r < rounds; r++) {
            rb_json_doc *doc = NULL;
            double t0 = now_ms();
            int rc = rb_json_parse(b.data, b.len, NULL, &doc, &err);
            double t1 = now_ms();
            char path[128] = "";
            rb_error serr;
            int src = rc == 0 ? rb_schema_validate(schema, rb_json_doc_root(doc), path,
                                                   sizeof path, &serr)
                              : 0;
            double t2 = now_ms();
            if (t1 - t0 < best) best = t1 - t0;
            if (t1 - t0 > worst) worst = t1 - t0;
            if (t2 - t0 < best_schema) best_schema = t2 - t0;
            if (rc != 0)
                snprintf(outcome, sizeof outcome, "rejected: %.80s", err.msg);
            else if (src != 0)
                snprintf(outcome, sizeof outcome, "parsed; schema: %.70s", serr.msg);
            else
                snprintf(outcome, sizeof outcome, "parsed, valid");
            rb_json_doc_destroy(doc);
        }
        if (worst >= 50 || best_schema >= 50) over++;
        printf("%-26s %9zu %9.2f %9.2f %9.2f  %s\n", shapes[s].name, b.len, best, worst,
               best_schema, outcome);
        fflush(stdout);
        rb_buf_free(&b);
    }
    rb_schema_destroy(schema);
    printf("%d shape%s at or over 50 ms\n", over, over == 1 ? "" : "s");
    return 0;
}
