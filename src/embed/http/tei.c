/*
 * tei.c -- Hugging Face Text Embeddings Inference: POST {url}/embed
 * {"inputs": [...]} answered by [[...], ...] in input order.  The Inference
 * API's feature-extraction pipeline takes the same body at its own URL
 * (.../pipeline/feature-extraction or .../models/NAME), which is used as
 * given.  A token-level answer ([[[...]]], a model without pooling) is an
 * error: its rows are not numbers.
 */
#include "embed/http/http_proto.h"

#include <stdio.h>
#include <string.h>

static int tei_url(const char *base, const char *api_version, rb_buf *out) {
    (void)api_version;
    size_t len = strlen(base);
    while (len > 0 && base[len - 1] == '/') len--;
    if (rb_buf_append(out, base, len) != 0) return -1;
    if (strstr(out->data, "/feature-extraction") || strstr(out->data, "/models/") ||
        (len >= 6 && strcmp(out->data + len - 6, "/embed") == 0))
        return 0;
    return rb_buf_puts(out, "/embed");
}

static int tei_body(const char *model, size_t dims, const char *const *texts, size_t n,
                    rb_buf *out) {
    (void)model;
    (void)dims;
    /* truncate: TEI cuts over-long inputs to the model's limit instead of
     * failing the whole request, as the local provider does. */
    int rc = rb_buf_puts(out, "{\"inputs\":[");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i) rc |= rb_buf_putc(out, ',');
        rc |= rb_buf_json_string(out, texts[i], strlen(texts[i]));
    }
    rc |= rb_buf_puts(out, "],\"truncate\":true}");
    return rc ? -1 : 0;
}

static int tei_parse(const rb_json *root, size_t n, size_t *dim, float *out, rb_error *err) {
    if (root->type != RB_JSON_ARRAY)
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                            "the answer is %s, expected an array of vectors",
                            rb_json_type_name(root->type));
    if (root->count != n)
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                            "the answer has %zu embeddings for %zu inputs", root->count, n);
    for (size_t i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof what, "vector %zu", i);
        if (rb_http_proto_vector(&root->items[i], dim, out ? out + i * *dim : NULL, what, err) !=
            0)
            return -1;
        if (!out) break;
    }
    return 0;
}

const rb_http_proto rb_http_proto_tei = {"tei", tei_url, tei_body, tei_parse, rb_http_fast_tei};
