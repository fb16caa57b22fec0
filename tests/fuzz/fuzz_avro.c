/*
 * fuzz_avro.c -- libFuzzer target for Avro bodies: bytes -> src/avro's
 * scan, libavro-c's read and the JSON writer, with the schemas of
 * tests/data/avro (the product, every logical type, Debezium's envelope).
 * The first byte picks the schema, the rest is the body.
 *
 * Bad bodies must fail with an error, never crash, leak or trip UBSan;
 * and whatever reads must be JSON that rb_json_parse accepts (the decode
 * stage parses it next), else the target aborts.  libavro-c itself is the
 * system's, not instrumented: what it does with memory is seen through
 * ASan's interceptors (malloc, memcpy) and the leak checker.
 *
 *   FUZZ_TARGET=fuzz_avro scripts/fuzz.sh
 */
#include "avro/avro.h"
#include "common/buf.h"
#include "common/error.h"
#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RB_SOURCE_DIR
#define RB_SOURCE_DIR "."
#endif

static const char *const schema_files[] = {"product.avsc", "logical.avsc",
                                           "debezium-envelope.avsc"};
#define N_SCHEMAS (sizeof schema_files / sizeof schema_files[0])

/* Parsed once; read-only afterwards, as the registry's cache keeps them. */
static rb_avro_schema *schemas[N_SCHEMAS];

static void fuzz_setup(void) {
    for (size_t i = 0; i < N_SCHEMAS; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/data/avro/%s", RB_SOURCE_DIR, schema_files[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "fuzz_avro: cannot open %s\n", path);
            abort();
        }
        static char text[65536];
        size_t n = fread(text, 1, sizeof text, f);
        fclose(f);
        rb_error err;
        if (rb_avro_schema_parse(text, n, schema_files[i], &schemas[i], &err) != 0) {
            fprintf(stderr, "fuzz_avro: %s\n", err.msg);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!schemas[0]) fuzz_setup();
    if (size == 0) return 0;
    const rb_avro_schema *s = schemas[data[0] % N_SCHEMAS];
    rb_buf out;
    rb_buf_init(&out);
    rb_error err;
    if (rb_avro_to_json(s, (const char *)data + 1, size - 1, &out, &err) == 0) {
        rb_json_doc *doc = NULL;
        if (rb_json_parse(out.data ? out.data : "", out.len, NULL, &doc, &err) != 0) {
            fprintf(stderr, "fuzz_avro: the reader wrote what is not JSON (%s): %.*s\n", err.msg,
                    (int)out.len, out.data ? out.data : "");
            abort();
        }
        rb_json_doc_destroy(doc);
    } else if (!err.msg[0]) {
        fprintf(stderr, "fuzz_avro: a failure without a message\n");
        abort();
    }
    rb_buf_free(&out);
    return 0;
}
