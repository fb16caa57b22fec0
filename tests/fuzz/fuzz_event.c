/*
 * fuzz_event.c -- libFuzzer target for the event path of a job:
 * bytes -> rb_json_parse -> rb_schema_validate (conf/product_schema.json)
 * -> rb_document_derive + rb_template_render with the product job's template.
 *
 * Every stage may fail on bad input (that is the point); the target only
 * checks that failures are reported as errors with a message, never as a
 * crash, a leak or undefined behaviour.  The schema and template are
 * compiled once on the first input and kept for the life of the process
 * (libFuzzer has no teardown hook; the leak checker ignores them because
 * they stay reachable from the static pointers below).
 *
 * Built and run by scripts/fuzz.sh; the seed corpus is tests/fuzz/corpus/.
 */
#include "common/buf.h"
#include "common/error.h"
#include "transform/document.h"
#include "transform/template.h"
#include "json/json.h"
#include "validate/schema.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RB_SOURCE_DIR
#define RB_SOURCE_DIR "."
#endif

/* The product job's template (jobs/product-updates.job, text.template). */
static const char fuzz_template[] = "{name}.[[ Brand: {brand?}.]][[ Category: {category?}.]] "
                                    "[[ {description?}]][[ Tags: {tags?}.]]";

/* Compiled once; read-only afterwards, as in the runner. */
static rb_schema *fuzz_schema;
static rb_template *fuzz_tpl;

static void fuzz_setup(void) {
    rb_error err;
    if (rb_schema_load(RB_SOURCE_DIR "/conf/product_schema.json", &fuzz_schema, &err) != 0 ||
        rb_template_compile(fuzz_template, &fuzz_tpl, &err) != 0) {
        /* A harness that cannot start must say so loudly: libFuzzer would
         * otherwise report success over an empty path. */
        fprintf(stderr, "fuzz_event: setup failed: %s\n", err.msg);
        abort();
    }
}

/* An error must always carry a code and a message. */
static void fuzz_check_error(const rb_error *err) {
    if (err->code == RB_OK || err->msg[0] == '\0') {
        fprintf(stderr, "fuzz_event: failure without an error code or message\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (fuzz_schema == NULL) fuzz_setup();

    rb_error err;
    rb_error_clear(&err);
    rb_json_doc *doc = NULL;
    if (rb_json_parse((const char *)data, size, NULL, &doc, &err) != 0) {
        fuzz_check_error(&err);
        if (doc != NULL) abort();
        return 0;
    }
    const rb_json *event = rb_json_doc_root(doc);

    char path[256];
    rb_error_clear(&err);
    int valid = rb_schema_validate(fuzz_schema, event, path, sizeof path, &err) == 0;
    if (!valid) fuzz_check_error(&err);

    /* The transform runs on invalid events too: it must cope with any tree
     * the parser accepts, not only with what the schema lets through. */
    static const char *const deletes[] = {"deleted"};
    rb_document_spec spec = {
        .tpl = fuzz_tpl,
        .id_field = "product_id",
        .version_field = "version",
        .time_field = "event_time",
        .op_field = "event_type",
        .delete_values = deletes,
        .delete_value_count = 1,
    };
    rb_document_fields f;
    memset(&f, 0, sizeof f);
    rb_error_clear(&err);
    if (rb_document_derive(&spec, event, &f, &err) == 0) {
        if (f.id == NULL || (!f.is_delete && f.text == NULL)) abort();
        rb_document_fields_free(&f);
    } else {
        fuzz_check_error(&err);
    }

    rb_buf out;
    rb_buf_init(&out);
    rb_error_clear(&err);
    if (rb_template_render(fuzz_tpl, event, &out, &err) != 0) fuzz_check_error(&err);
    rb_buf_free(&out);

    rb_json_doc_destroy(doc);
    return 0;
}
