/*
 * http_fast.c -- the direct reader of well-formed embedding answers (see
 * rb_http_fast_openai / rb_http_fast_tei in http_proto.h).
 *
 * An answer of 32 vectors of 384 numbers is about 130 KB of digits.  The
 * general path (the JSON module, then the protocol's parse) builds a node
 * per number and converts each twice with strtod; with a fast provider that
 * is most of the client's CPU.  This reader walks the bytes once and
 * converts each number straight into the caller's float row.
 *
 * It accepts only a strict subset of JSON: strings of printable ASCII
 * without escapes, objects of at most SMALL_OBJECT members (no duplicate
 * keys), nesting up to MAX_DEPTH, and the protocol's expected layout (every vector exactly `dim`
 * numbers, every number finite and within float range, indexes unique and
 * in range).  Whatever falls outside it -- including every malformed or
 * wrong answer -- is declined, and the caller takes the general path, whose
 * errors then describe the answer.  So an accepted answer is valid JSON
 * the general path would have read to the same floats: numbers convert
 * through the same double (exactly when the decimal fits Clinger's fast
 * path, by strtod otherwise) and then to float, as the general path does.
 */
#include "embed/http/http_proto.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16
#define SMALL_OBJECT 16

typedef struct reader {
    const char *p, *end;
} reader;

static void ws(reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static bool take(reader *r, char c) {
    ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

/* A string of printable ASCII without escapes; *s, *len: its contents. */
static bool plain_string(reader *r, const char **s, size_t *len) {
    ws(r);
    if (r->p >= r->end || *r->p != '"') return false;
    const char *start = ++r->p;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20 || c > 0x7e || c == '\\') return false;
        r->p++;
    }
    if (r->p >= r->end) return false;
    *s = start;
    *len = (size_t)(r->p - start);
    r->p++;
    return true;
}

static bool key_is(const char *s, size_t len, const char *word) {
    return len == strlen(word) && memcmp(s, word, len) == 0;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Powers of ten exact in a double (10^22 is the largest). */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A number by RFC 8259's grammar, as strtod reads it.  *integer: it has
 * neither fraction nor exponent (then *ival holds it, if it fits). */
static bool number(reader *r, double *out, bool *integer, uint64_t *ival) {
    ws(r);
    const char *start = r->p, *p = r->p, *end = r->end;
    bool neg = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || !is_digit(*p)) return false;
    uint64_t m = 0;
    int sig = 0;  /* significant digits in m */
    int drop = 0; /* integer digits beyond m's 19 */
    bool exact = true;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && is_digit(*p)) {
            if (sig < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                sig++;
            } else {
                drop++;
                exact = false;
            }
            p++;
        }
    }
    *integer = true;
    *ival = exact ? m : UINT64_MAX;
    int frac = 0;
    if (p < end && *p == '.') {
        *integer = false;
        p++;
        if (p >= end || !is_digit(*p)) return false;
        while (p < end && is_digit(*p)) {
            if (sig < 19) {
                if (m != 0 || *p != '0') sig++;
                m = m * 10 + (uint64_t)(*p - '0');
                frac++;
            } else {
                exact = false;
            }
            p++;
        }
    }
    long e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        *integer = false;
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= end || !is_digit(*p)) return false;
        while (p < end && is_digit(*p)) {
            if (e < 100000) e = e * 10 + (*p - '0');
            p++;
        }
        if (eneg) e = -e;
    }
    /* What follows a number inside the answer is a delimiter; the end of
     * the buffer is not (no answer ends in a number). */
    if (p >= end || !(*p == ',' || *p == ']' || *p == '}' || *p == ' ' || *p == '\n' ||
                      *p == '\r' || *p == '\t'))
        return false;
    r->p = p;
    long e10 = e + drop - frac;
    if (exact && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
        /* Clinger: m and 10^|e10| are exact doubles, so one IEEE operation
         * rounds correctly, giving strtod's result. */
        double d = (double)m;
        d = e10 < 0 ? d / POW10[-e10] : d * POW10[e10];
        *out = neg ? -d : d;
        return true;
    }
    /* strtod stops at the delimiter checked above. */
    *out = strtod(start, NULL);
    return true;
}

static bool skip_value(reader *r, int depth);

/* The keys of one object seen so far: a duplicate, or more members than
 * SMALL_OBJECT, declines (the JSON module reports duplicates). */
typedef struct keyset {
    const char *key[SMALL_OBJECT];
    size_t len[SMALL_OBJECT];
    size_t n;
} keyset;

static bool fresh_key(keyset *ks, const char *k, size_t len) {
    if (ks->n == SMALL_OBJECT) return false;
    for (size_t i = 0; i < ks->n; i++)
        if (ks->len[i] == len && memcmp(ks->key[i], k, len) == 0) return false;
    ks->key[ks->n] = k;
    ks->len[ks->n++] = len;
    return true;
}

/* The members of an object after its '{'. */
static bool skip_object(reader *r, int depth) {
    keyset ks = {.n = 0};
    if (take(r, '}')) return true;
    do {
        const char *k;
        size_t len;
        if (!plain_string(r, &k, &len) || !fresh_key(&ks, k, len)) return false;
        if (!take(r, ':') || !skip_value(r, depth + 1)) return false;
    } while (take(r, ','));
    return take(r, '}');
}

static bool skip_array(reader *r, int depth) {
    if (take(r, ']')) return true;
    do
        if (!skip_value(r, depth + 1)) return false;
    while (take(r, ','));
    return take(r, ']');
}

static bool word(reader *r, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) <= n || memcmp(r->p, w, n) != 0) return false;
    r->p += n;
    return true;
}

static bool skip_value(reader *r, int depth) {
    if (depth > MAX_DEPTH) return false;
    ws(r);
    if (r->p >= r->end) return false;
    const char *s;
    size_t len;
    double d;
    bool integer;
    uint64_t iv;
    switch (*r->p) {
    case '"': return plain_string(r, &s, &len);
    case '{': r->p++; return skip_object(r, depth);
    case '[': r->p++; return skip_array(r, depth);
    case 't': return word(r, "true");
    case 'f': return word(r, "false");
    case 'n': return word(r, "null");
    default:
        /* Out of double range the JSON module refuses the answer. */
        return number(r, &d, &integer, &iv) && isfinite(d);
    }
}

/* '[' dim numbers ']' into out[0..dim). */
static bool vector(reader *r, size_t dim, float *out) {
    if (!take(r, '[')) return false;
    for (size_t j = 0; j < dim; j++) {
        double d;
        bool integer;
        uint64_t iv;
        if (j && !take(r, ',')) return false;
        if (!number(r, &d, &integer, &iv) || !isfinite(d) || fabs(d) > FLT_MAX) return false;
        out[j] = (float)d;
    }
    return take(r, ']');
}

static bool at_end(reader *r) {
    ws(r);
    return r->p == r->end;
}

/* One element of "data": {"index"?, "embedding", other members...} into
 * its row of out. */
static bool openai_item(reader *r, size_t i, size_t n, size_t dim, float *out, char *seen,
                        float *row) {
    keyset ks = {.n = 0};
    bool have_embedding = false;
    size_t at = i; /* a server that omits "index" answers in input order */
    if (!take(r, '{')) return false;
    do {
        const char *k;
        size_t len;
        if (!plain_string(r, &k, &len) || !fresh_key(&ks, k, len) || !take(r, ':')) return false;
        if (key_is(k, len, "embedding")) {
            have_embedding = true;
            if (!vector(r, dim, row)) return false;
        } else if (key_is(k, len, "index")) {
            double d;
            bool integer;
            uint64_t iv;
            ws(r);
            if (r->p < r->end && *r->p == '-') return false;
            if (!number(r, &d, &integer, &iv) || !integer || iv >= n) return false;
            at = (size_t)iv;
        } else if (!skip_value(r, 2)) {
            return false;
        }
    } while (take(r, ','));
    if (!take(r, '}') || !have_embedding || seen[at]) return false;
    seen[at] = 1;
    memcpy(out + at * dim, row, dim * sizeof *row);
    return true;
}

int rb_http_fast_openai(const char *body, size_t len, size_t n, size_t dim, float *out) {
    if (!body || n == 0 || dim == 0 || !out) return 0;
    reader r = {body, body + len};
    char *seen = calloc(n, 1);
    float *row = malloc(dim * sizeof *row);
    keyset ks = {.n = 0};
    bool have_data = false;
    size_t count = 0;
    bool ok = seen && row && take(&r, '{');
    if (ok && !take(&r, '}')) do {
            const char *k;
            size_t klen;
            ok = plain_string(&r, &k, &klen) && fresh_key(&ks, k, klen) && take(&r, ':');
            if (ok && key_is(k, klen, "data")) {
                have_data = true;
                ok = take(&r, '[');
                if (ok && !take(&r, ']')) {
                    do ok = count < n && openai_item(&r, count, n, dim, out, seen, row) && ++count;
                    while (ok && take(&r, ','));
                    ok = ok && take(&r, ']');
                }
            } else if (ok) {
                ok = skip_value(&r, 1);
            }
        } while (ok && take(&r, ','));
    else
        ok = false; /* {} has no data */
    ok = ok && take(&r, '}') && at_end(&r) && have_data && count == n;
    free(seen);
    free(row);
    return ok ? 1 : 0;
}

int rb_http_fast_tei(const char *body, size_t len, size_t n, size_t dim, float *out) {
    if (!body || n == 0 || dim == 0 || !out) return 0;
    reader r = {body, body + len};
    if (!take(&r, '[')) return 0;
    for (size_t i = 0; i < n; i++) {
        if (i && !take(&r, ',')) return 0;
        if (!vector(&r, dim, out + i * dim)) return 0;
    }
    return take(&r, ']') && at_end(&r) ? 1 : 0;
}
