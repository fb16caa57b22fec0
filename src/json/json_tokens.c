/* json_tokens.c -- one linear pass of token boundaries; see json_tokens.h.
 *
 * The rules follow a strict streaming tokenizer that keeps, besides the
 * tokens, a "super" token: the container or key that the next token
 * belongs to.  A ':' makes the key just read the super token, a ',' after
 * a key's value makes the key's container the super token again, and a
 * closing bracket makes the closed container's parent the super token.
 * Open containers are kept on a stack, so closing one costs O(1) (walking
 * back up the parent links instead costs the depth at every bracket, which
 * adds up to quadratic time on deeply nested input).
 */
#include "json/json_tokens.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct tokenizer {
    const char *js;
    size_t len;
    json_tok *tok;
    int count, cap, max; /* max: the most tokens allowed, INT_MAX-ish if none */
    int super;           /* index of the super token, -1 at the top */
    int *open;           /* indices of open containers, innermost last */
    size_t depth, max_depth;
} tokenizer;

static json_tok_status add(tokenizer *t, json_tok_type type, size_t start, size_t end,
                           int *index) {
    if (t->count >= t->max) return JSON_TOK_TOO_MANY;
    if (t->count == t->cap) {
        int cap = t->cap > t->max / 2 ? t->max : t->cap * 2;
        json_tok *grown = realloc(t->tok, (size_t)cap * sizeof *grown);
        if (!grown) return JSON_TOK_NOMEM;
        t->tok = grown;
        t->cap = cap;
    }
    json_tok *k = &t->tok[t->count];
    k->type = type;
    k->start = (int)start;
    k->end = end == (size_t)-1 ? -1 : (int)end;
    k->size = 0;
    k->parent = t->super;
    *index = t->count++;
    return JSON_TOK_DONE;
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string whose opening quote is at *pos; on success *pos is its closing
 * quote.  A failure leaves *pos at the opening quote. */
static json_tok_status string_token(tokenizer *t, size_t *pos) {
    size_t start = *pos;
    for (size_t i = start + 1; i < t->len; i++) {
        /* Only a quote or a backslash matters here (the text holds no NUL
         * and ends in one): skip to the next with the C library's scan. */
        i += strcspn(t->js + i, "\"\\");
        if (i >= t->len) break;
        char c = t->js[i];
        if (c == '"') {
            int index;
            json_tok_status st = add(t, JSON_TOK_STRING, start + 1, i, &index);
            if (st != JSON_TOK_DONE) return st;
            *pos = i;
            return JSON_TOK_DONE;
        }
        if (i + 1 >= t->len) continue;
        i++;
        switch (t->js[i]) {
        case '"':
        case '/':
        case '\\':
        case 'b':
        case 'f':
        case 'r':
        case 'n':
        case 't': break;
        case 'u':
            for (int k = 0; k < 4 && i + 1 < t->len; k++) {
                if (!is_hex(t->js[i + 1])) return JSON_TOK_INVALID;
                i++;
            }
            break;
        default: return JSON_TOK_INVALID;
        }
    }
    return JSON_TOK_PARTIAL;
}

/* A number or literal starting at *pos; on success *pos is its last byte. */
static json_tok_status primitive_token(tokenizer *t, size_t *pos) {
    size_t start = *pos;
    for (size_t i = start; i < t->len; i++) {
        char c = t->js[i];
        if (c == '\t' || c == '\r' || c == '\n' || c == ' ' || c == ',' || c == ']' || c == '}') {
            int index;
            json_tok_status st = add(t, JSON_TOK_PRIMITIVE, start, i, &index);
            if (st != JSON_TOK_DONE) return st;
            *pos = i - 1;
            return JSON_TOK_DONE;
        }
        if ((unsigned char)c < 32 || (unsigned char)c >= 127) return JSON_TOK_INVALID;
    }
    return JSON_TOK_PARTIAL; /* a primitive needs a delimiter after it */
}

static json_tok_status scan(tokenizer *t, size_t *pos) {
    for (size_t i = 0; i < t->len; i++) {
        *pos = i;
        char c = t->js[i];
        json_tok_status st;
        switch (c) {
        case '{':
        case '[': {
            if (t->super != -1) {
                /* A container cannot be an object's key. */
                if (t->tok[t->super].type == JSON_TOK_OBJECT) return JSON_TOK_INVALID;
                t->tok[t->super].size++;
            }
            if (t->depth + 1 > t->max_depth) return JSON_TOK_DEEP;
            int index;
            st = add(t, c == '{' ? JSON_TOK_OBJECT : JSON_TOK_ARRAY, i, (size_t)-1, &index);
            if (st != JSON_TOK_DONE) return st;
            t->open[t->depth++] = index;
            t->super = index;
            break;
        }
        case '}':
        case ']': {
            if (t->depth == 0) return JSON_TOK_INVALID; /* nothing to close */
            json_tok *k = &t->tok[t->open[t->depth - 1]];
            if (k->type != (c == '}' ? JSON_TOK_OBJECT : JSON_TOK_ARRAY)) return JSON_TOK_INVALID;
            k->end = (int)i + 1;
            t->depth--;
            t->super = k->parent;
            break;
        }
        case '"':
            st = string_token(t, &i);
            if (st != JSON_TOK_DONE) return st;
            if (t->super != -1) t->tok[t->super].size++;
            break;
        case '\t':
        case '\r':
        case '\n':
        case ' ': break;
        case ':': t->super = t->count - 1; break;
        case ',':
            if (t->super != -1 && t->tok[t->super].type != JSON_TOK_ARRAY &&
                t->tok[t->super].type != JSON_TOK_OBJECT)
                t->super = t->tok[t->super].parent;
            break;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
        case 't':
        case 'f':
        case 'n':
            if (t->super != -1) {
                /* Not an object's key, and a key has one value. */
                const json_tok *s = &t->tok[t->super];
                if (s->type == JSON_TOK_OBJECT || (s->type == JSON_TOK_STRING && s->size != 0))
                    return JSON_TOK_INVALID;
            }
            st = primitive_token(t, &i);
            if (st != JSON_TOK_DONE) return st;
            if (t->super != -1) t->tok[t->super].size++;
            break;
        default: return JSON_TOK_INVALID;
        }
    }
    *pos = t->len;
    return t->depth ? JSON_TOK_PARTIAL : JSON_TOK_DONE;
}

json_tok_status json_tokenize_text(const char *js, size_t len, size_t max_depth, size_t max_tokens,
                                   size_t expected, json_tokens *out) {
    tokenizer t = {.js = js, .len = len, .super = -1, .max_depth = max_depth};
    t.max = max_tokens && max_tokens < (size_t)(1 << 30) ? (int)max_tokens : 1 << 30;
    t.cap = expected < 16 ? 16 : expected > (size_t)t.max ? t.max : (int)expected;
    out->tok = NULL;
    out->count = 0;
    out->pos = 0;
    t.tok = malloc((size_t)t.cap * sizeof *t.tok);
    t.open = malloc((max_depth + 1) * sizeof *t.open);
    json_tok_status st = t.tok && t.open ? scan(&t, &out->pos) : JSON_TOK_NOMEM;
    free(t.open);
    out->tok = t.tok;
    out->count = t.count;
    return st;
}
