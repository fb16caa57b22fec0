/*
 * openai.c -- the OpenAI embeddings format: POST {url}/v1/embeddings
 * {"model", "input": [...], "dimensions"?}, answered by {"data": [{"index",
 * "embedding"}...]}.  Spoken by OpenAI, Azure OpenAI (deployment URL,
 * api-version query, api-key header), vLLM and Ollama's /v1 endpoint.
 * The answer's data may come in any order: rows are placed by "index".
 */
#include "embed/http/http_proto.h"

#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int openai_url(const char *base, const char *api_version, rb_buf *out) {
    size_t len = strlen(base);
    while (len > 0 && base[len - 1] == '/') len--; /* "http://h/" and "http://h" alike */
    if (rb_buf_append(out, base, len) != 0) return -1;
    if (api_version && api_version[0]) /* Azure: the URL names the deployment */
        return ends_with(out->data, "/embeddings")
                   ? rb_buf_printf(out, "?api-version=%s", api_version)
                   : rb_buf_printf(out, "/embeddings?api-version=%s", api_version);
    if (ends_with(out->data, "/embeddings")) return 0;
    return rb_buf_puts(out, ends_with(out->data, "/v1") ? "/embeddings" : "/v1/embeddings");
}

static int openai_body(const char *model, size_t dims, const char *const *texts, size_t n,
                       rb_buf *out) {
    int rc = rb_buf_puts(out, "{\"model\":");
    rc |= rb_buf_json_string(out, model ? model : "", strlen(model ? model : ""));
    rc |= rb_buf_puts(out, ",\"input\":[");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i) rc |= rb_buf_putc(out, ',');
        rc |= rb_buf_json_string(out, texts[i], strlen(texts[i]));
    }
    rc |= rb_buf_putc(out, ']');
    if (dims) rc |= rb_buf_printf(out, ",\"dimensions\":%zu", dims);
    rc |= rb_buf_putc(out, '}');
    return rc ? -1 : 0;
}

static int openai_parse(const rb_json *root, size_t n, size_t *dim, float *out, rb_error *err) {
    const rb_json *data = rb_json_get(root, "data");
    if (!data || data->type != RB_JSON_ARRAY)
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED, "the answer has no \"data\" array");
    if (data->count != n)
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                            "the answer has %zu embeddings for %zu inputs", data->count, n);
    char *seen = calloc(n ? n : 1, 1);
    if (!seen) return rb_error_nomem(err, RB_STAGE_EMBED, "answer");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const rb_json *item = &data->items[i];
        const rb_json *idx = rb_json_get(item, "index");
        size_t row = i; /* a server that omits "index" answers in input order */
        if (idx) {
            if (idx->type != RB_JSON_NUMBER || !idx->is_integer || idx->integer < 0 ||
                (uint64_t)idx->integer >= n) {
                rc = rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                                  "data[%zu].index is not an input position below %zu", i, n);
                break;
            }
            row = (size_t)idx->integer;
        }
        if (seen[row]) {
            rc = rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                              "data[%zu].index %zu appears twice", i, row);
            break;
        }
        seen[row] = 1;
        char what[64];
        snprintf(what, sizeof what, "data[%zu].embedding", i);
        rc = rb_http_proto_vector(rb_json_get(item, "embedding"), dim,
                                  out ? out + row * *dim : NULL, what, err);
        if (!out) break; /* probing: the size is all we need */
    }
    free(seen);
    return rc;
}

const rb_http_proto rb_http_proto_openai = {"openai", openai_url, openai_body, openai_parse,
                                            rb_http_fast_openai};
