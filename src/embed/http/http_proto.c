#include "embed/http/http_proto.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include <strings.h>

int rb_http_proto_vector(const rb_json *v, size_t *dim, float *out, const char *what,
                         rb_error *err) {
    if (!v || v->type != RB_JSON_ARRAY)
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                            "%s is %s, expected an array of numbers", what,
                            v ? rb_json_type_name(v->type) : "missing");
    if (v->count == 0) return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED, "%s is empty", what);
    if (*dim == 0) *dim = v->count;
    if (v->count != *dim)
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                            "%s has %zu dimensions, expected %zu (embed.dimensions or the first "
                            "answer)",
                            what, v->count, *dim);
    for (size_t j = 0; j < v->count; j++) {
        const rb_json *x = &v->items[j];
        if (x->type != RB_JSON_NUMBER)
            return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                                "%s element %zu is %s, not a number", what, j,
                                rb_json_type_name(x->type));
        if (!isfinite(x->number) || fabs(x->number) > FLT_MAX)
            return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED,
                                "%s element %zu (%g) is not a finite float", what, j, x->number);
        if (out) out[j] = (float)x->number;
    }
    return 0;
}

static int append_clean(rb_buf *out, const char *s, size_t len) {
    size_t max = 300; /* enough for any provider's sentence, not a whole page */
    if (len > max) len = max;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((unsigned char)c < 0x20 || c == 0x7f) c = ' ';
        if (rb_buf_putc(out, c) != 0) return -1;
    }
    return 0;
}

int rb_http_proto_message(const char *body, size_t len, rb_buf *out) {
    if (!body || len == 0) return rb_buf_puts(out, "(empty answer)");
    rb_json_doc *doc = NULL;
    if (rb_json_parse(body, len, NULL, &doc, NULL) == 0) {
        const rb_json *root = rb_json_doc_root(doc);
        const char *keys[] = {"error.message", "error", "message", "detail", "detail.0.msg"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const rb_json *m = rb_json_get_path(root, keys[i]);
            if (!m && strcmp(keys[i], "detail.0.msg") == 0) {
                const rb_json *d = rb_json_get(root, "detail");
                if (d && d->type == RB_JSON_ARRAY && d->count > 0)
                    m = rb_json_get(&d->items[0], "msg");
            }
            if (m && m->type == RB_JSON_STRING) {
                int rc = append_clean(out, m->str, m->str_len);
                rb_json_doc_destroy(doc);
                return rc;
            }
        }
        rb_json_doc_destroy(doc);
    }
    return append_clean(out, body, len);
}

static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return 1;
    return 0;
}

int rb_http_proto_too_large(const char *m) {
    /* OpenAI: "maximum context length", "too many tokens" / "max 2048
     * inputs"; TEI: "batch size ... > maximum allowed batch size",
     * "must have less than N tokens"; vLLM: "too long". */
    return contains_ci(m, "too many tokens") || contains_ci(m, "maximum context length") ||
           contains_ci(m, "too long") || contains_ci(m, "maximum allowed batch size") ||
           contains_ci(m, "max_client_batch_size") || contains_ci(m, "too large") ||
           contains_ci(m, "payload too large");
}
