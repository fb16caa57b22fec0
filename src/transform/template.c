/*
 * template.c -- compiles the text template (syntax in template.h) into a
 * flat list of parts and renders events with it.
 *
 * Compile-time choices beyond the header's summary:
 *   - a field path is one or more segments of [A-Za-z0-9_-] joined by '.',
 *     optionally followed by '?'; anything else inside braces is an error;
 *   - "[[" opens and "]]" closes a section; a single '[' or ']' is text;
 *     a '}' outside a placeholder is an error (write "\}");
 *   - the escapes are \{ \} \[ \] \\; any other backslash is an error;
 *   - a required placeholder inside a section stays required.
 * Render-time choices: null renders as nothing; array items and object
 * members that render as nothing are left out of the ", " join; a section
 * is dropped when one of its optional placeholders is missing or null or
 * renders to white space only.  White-space folding (space, tab, CR, LF,
 * FF, VT) applies to the text appended by this call only.
 */
#include "transform/template.h"

#include <openssl/evp.h>

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum tpl_kind { TPL_TEXT, TPL_FIELD, TPL_OPEN, TPL_CLOSE } tpl_kind;

typedef struct tpl_part {
    tpl_kind kind;
    char *text; /* TPL_TEXT: literal text; TPL_FIELD: the dotted path */
    size_t len;
    bool optional; /* TPL_FIELD written as {field?} */
} tpl_part;

struct rb_template {
    tpl_part *parts;
    size_t n_parts, cap_parts;
    char **fields; /* points at the TPL_FIELD parts' paths, in order */
    size_t n_fields;
};

/* ============================================================ compiling */

static int tpl_fail(rb_error *err, const char *text, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int tpl_fail(rb_error *err, const char *text, size_t off, const char *fmt, ...) {
    char what[RB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int col = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80) col++;
    return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "template column %d: %s", col, what);
}

static int tpl_add(rb_template *t, tpl_kind kind, const char *s, size_t len, bool optional,
                   rb_error *err) {
    if (t->n_parts == t->cap_parts) {
        size_t cap = t->cap_parts ? t->cap_parts * 2 : 16;
        tpl_part *grown = realloc(t->parts, cap * sizeof *grown);
        if (!grown) return rb_error_nomem(err, RB_STAGE_CONFIG, "template");
        t->parts = grown;
        t->cap_parts = cap;
    }
    tpl_part *p = &t->parts[t->n_parts];
    p->kind = kind;
    p->text = NULL;
    p->len = len;
    p->optional = optional;
    if (s) {
        p->text = malloc(len + 1);
        if (!p->text) return rb_error_nomem(err, RB_STAGE_CONFIG, "template");
        memcpy(p->text, s, len);
        p->text[len] = '\0';
    }
    t->n_parts++;
    return 0;
}

/* Appends literal text, merging with a preceding text part. */
static int tpl_add_text(rb_template *t, const char *s, size_t len, rb_error *err) {
    if (len == 0) return 0;
    if (t->n_parts && t->parts[t->n_parts - 1].kind == TPL_TEXT) {
        tpl_part *p = &t->parts[t->n_parts - 1];
        char *grown = realloc(p->text, p->len + len + 1);
        if (!grown) return rb_error_nomem(err, RB_STAGE_CONFIG, "template");
        memcpy(grown + p->len, s, len);
        p->len += len;
        grown[p->len] = '\0';
        p->text = grown;
        return 0;
    }
    return tpl_add(t, TPL_TEXT, s, len, false, err);
}

static bool tpl_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* Parses the placeholder whose '{' is at text[open]; sets *end past '}'. */
static int tpl_field(rb_template *t, const char *text, size_t open, size_t *end, rb_error *err) {
    size_t i = open + 1;
    size_t start = i;
    bool optional = false;
    for (;; i++) {
        char c = text[i];
        if (c == '\0')
            return tpl_fail(err, text, open, "unclosed '{' (write \\{ for a literal brace)");
        if (c == '}') break;
        if (c == '?') {
            if (text[i + 1] != '}')
                return tpl_fail(err, text, i, "'?' must come last, right before '}'");
            optional = true;
            continue;
        }
        if (c == '.') {
            if (i == start || text[i - 1] == '.')
                return tpl_fail(err, text, i, "empty segment in field path");
            continue;
        }
        if (!tpl_name_char(c)) {
            if (c == '{') return tpl_fail(err, text, i, "'{' inside a placeholder");
            if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7F)
                return tpl_fail(err, text, i, "invalid character '%c' in field name", c);
            return tpl_fail(err, text, i, "invalid character (byte 0x%02x) in field name",
                            (unsigned char)c);
        }
    }
    size_t name_end = optional ? i - 1 : i;
    if (name_end == start) return tpl_fail(err, text, open, "empty field name");
    if (text[name_end - 1] == '.')
        return tpl_fail(err, text, name_end - 1, "empty segment in field path");
    *end = i + 1;
    return tpl_add(t, TPL_FIELD, text + start, name_end - start, optional, err);
}

static int tpl_parse(rb_template *t, const char *text, rb_error *err) {
    size_t i = 0;
    size_t lit = 0; /* start of pending literal text */
    bool in_section = false;
    size_t section_at = 0;
    while (text[i]) {
        char c = text[i];
        if (c == '\\') {
            char e = text[i + 1];
            if (e != '{' && e != '}' && e != '[' && e != ']' && e != '\\')
                return tpl_fail(err, text, i,
                                "unknown escape; only \\{ \\} \\[ \\] and \\\\ are "
                                "escapes");
            if (tpl_add_text(t, text + lit, i - lit, err) != 0 ||
                tpl_add_text(t, &text[i + 1], 1, err) != 0)
                return -1;
            i += 2;
            lit = i;
        } else if (c == '{') {
            if (tpl_add_text(t, text + lit, i - lit, err) != 0) return -1;
            if (tpl_field(t, text, i, &i, err) != 0) return -1;
            lit = i;
        } else if (c == '}') {
            return tpl_fail(err, text, i, "'}' without '{' (write \\} for a literal brace)");
        } else if (c == '[' && text[i + 1] == '[') {
            if (in_section)
                return tpl_fail(err, text, i,
                                "nested section: '[[' inside the section opened at "
                                "column %zu",
                                section_at + 1);
            if (tpl_add_text(t, text + lit, i - lit, err) != 0 ||
                tpl_add(t, TPL_OPEN, NULL, 0, false, err) != 0)
                return -1;
            in_section = true;
            section_at = i;
            i += 2;
            lit = i;
        } else if (c == ']' && text[i + 1] == ']') {
            if (!in_section)
                return tpl_fail(err, text, i,
                                "']]' without '[[' (write \\]\\] for literal "
                                "brackets)");
            if (tpl_add_text(t, text + lit, i - lit, err) != 0 ||
                tpl_add(t, TPL_CLOSE, NULL, 0, false, err) != 0)
                return -1;
            in_section = false;
            i += 2;
            lit = i;
        } else {
            i++;
        }
    }
    if (in_section) return tpl_fail(err, text, section_at, "unclosed section '[['");
    return tpl_add_text(t, text + lit, i - lit, err);
}

int rb_template_compile(const char *text, rb_template **out, rb_error *err) {
    *out = NULL;
    if (!text) return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "template is missing");
    rb_template *t = calloc(1, sizeof *t);
    if (!t) return rb_error_nomem(err, RB_STAGE_CONFIG, "template");
    if (tpl_parse(t, text, err) != 0) {
        rb_template_destroy(t);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->n_parts; i++) n += t->parts[i].kind == TPL_FIELD;
    if (n) {
        t->fields = calloc(n, sizeof *t->fields);
        if (!t->fields) {
            rb_template_destroy(t);
            return rb_error_nomem(err, RB_STAGE_CONFIG, "template");
        }
        for (size_t i = 0; i < t->n_parts; i++)
            if (t->parts[i].kind == TPL_FIELD) t->fields[t->n_fields++] = t->parts[i].text;
    }
    *out = t;
    return 0;
}

size_t rb_template_field_count(const rb_template *tpl) { return tpl ? tpl->n_fields : 0; }

const char *rb_template_field(const rb_template *tpl, size_t i) {
    return tpl && i < tpl->n_fields ? tpl->fields[i] : NULL;
}

void rb_template_destroy(rb_template *tpl) {
    if (!tpl) return;
    for (size_t i = 0; i < tpl->n_parts; i++) free(tpl->parts[i].text);
    free(tpl->parts);
    free(tpl->fields);
    free(tpl);
}

/* ============================================================ rendering */

/* The shortest %g form of `d` that reads back as the same double. */
static int tpl_put_double(rb_buf *out, double d) {
    char s[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        if (strtod(s, NULL) == d) break;
    }
    return rb_buf_puts(out, s);
}

static int tpl_put_value(rb_buf *out, const rb_json *v) {
    switch (v->type) {
    case RB_JSON_NULL: return 0;
    case RB_JSON_BOOL: return rb_buf_puts(out, v->boolean ? "true" : "false");
    case RB_JSON_STRING: return rb_buf_append(out, v->str, v->str_len);
    case RB_JSON_NUMBER:
        if (v->is_integer) return rb_buf_printf(out, "%" PRId64, v->integer);
        /* 1.0 and 1e2 are integers too; print them without a fraction
         * while %.0f is still exact. */
        if (isfinite(v->number) && floor(v->number) == v->number && fabs(v->number) < 1e15)
            return rb_buf_printf(out, "%.0f", v->number);
        return tpl_put_double(out, v->number);
    case RB_JSON_ARRAY:
    case RB_JSON_OBJECT: {
        bool arr = v->type == RB_JSON_ARRAY;
        bool first = true;
        for (size_t i = 0; i < v->count; i++) {
            size_t mark = out->len;
            if (!first && rb_buf_puts(out, ", ") != 0) return -1;
            if (!arr && (rb_buf_append(out, v->members[i].key, v->members[i].key_len) != 0 ||
                         rb_buf_puts(out, ": ") != 0))
                return -1;
            size_t before = out->len;
            if (tpl_put_value(out, arr ? &v->items[i] : v->members[i].value) != 0) return -1;
            if (out->len == before) {
                out->len = mark;                       /* leave out items that render as nothing */
                if (out->data) out->data[mark] = '\0'; /* NULL while nothing was appended */
                continue;
            }
            first = false;
        }
        return 0;
    }
    }
    return 0;
}

static bool tpl_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool tpl_blank(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (!tpl_space(s[i])) return false;
    return true;
}

/* Folds white-space runs of out[from..] to one space and trims them;
 * with `paragraphs`, a run holding two or more line feeds folds to "\n\n"
 * instead (the result is never longer than the run it replaces). */
static void tpl_fold(rb_buf *out, size_t from, bool paragraphs) {
    if (!out->data) return;
    size_t w = from, newlines = 0;
    bool pending = false;
    for (size_t r = from; r < out->len; r++) {
        char c = out->data[r];
        if (tpl_space(c)) {
            if (!pending) newlines = 0;
            pending = w > from;
            newlines += c == '\n';
            continue;
        }
        if (pending && paragraphs && newlines >= 2) {
            out->data[w++] = '\n';
            out->data[w++] = '\n';
        } else if (pending) {
            out->data[w++] = ' ';
        }
        pending = false;
        newlines = 0;
        out->data[w++] = c;
    }
    out->len = w;
    out->data[w] = '\0';
}

static int render(const rb_template *tpl, const rb_json *event, rb_buf *out, bool paragraphs,
                  rb_error *err) {
    size_t start = out->len;
    size_t section_start = 0;
    bool in_section = false, drop = false;
    for (size_t i = 0; i < tpl->n_parts; i++) {
        const tpl_part *p = &tpl->parts[i];
        int rc = 0;
        switch (p->kind) {
        case TPL_TEXT: rc = rb_buf_append(out, p->text, p->len); break;
        case TPL_OPEN:
            in_section = true;
            drop = false;
            section_start = out->len;
            break;
        case TPL_CLOSE:
            if (drop && out->data) {
                out->len = section_start;
                out->data[section_start] = '\0';
            }
            in_section = false;
            break;
        case TPL_FIELD: {
            const rb_json *v = rb_json_get_path(event, p->text);
            if (!v || v->type == RB_JSON_NULL) {
                if (!p->optional) {
                    if (out->data) {
                        out->len = start;
                        out->data[start] = '\0';
                    }
                    return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                                        "template field \"%s\" is %s in the event (write {%s?} "
                                        "if it may be absent)",
                                        p->text, v ? "null" : "missing", p->text);
                }
                if (in_section) drop = true;
                break;
            }
            size_t before = out->len;
            rc = tpl_put_value(out, v);
            if (rc == 0 && in_section && p->optional &&
                tpl_blank(out->data ? out->data + before : "", out->len - before))
                drop = true;
            break;
        }
        }
        if (rc != 0) {
            if (out->data) {
                out->len = start;
                out->data[start] = '\0';
            }
            return rb_error_nomem(err, RB_STAGE_TRANSFORM, "rendered text");
        }
    }
    tpl_fold(out, start, paragraphs);
    return 0;
}

int rb_template_render(const rb_template *tpl, const rb_json *event, rb_buf *out, rb_error *err) {
    return render(tpl, event, out, false, err);
}

int rb_template_render_paragraphs(const rb_template *tpl, const rb_json *event, rb_buf *out,
                                  rb_error *err) {
    return render(tpl, event, out, true, err);
}

/* ============================================================ hashing */

void rb_text_hash(const char *text, size_t len, char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(text, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        /* Only an OpenSSL failure gets here; an all-zero hash never equals
         * a stored one, so the text is simply embedded again. */
        memset(hex, '0', 64);
        hex[64] = '\0';
        return;
    }
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}
