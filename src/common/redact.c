/* redact.c -- credentials out of text; see redact.h for what is replaced. */
#include "common/redact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MASK "***"

/* Where redacted text goes: a growable buffer, or the caller's fixed one. */
typedef struct sink {
    rb_buf *buf; /* NULL: write into fixed */
    char *fixed;
    size_t cap; /* of fixed, NUL included */
    size_t len;
    int failed; /* rb_buf ran out of memory */
} sink;

static void put(sink *o, const char *s, size_t n) {
    if (o->buf) {
        if (!o->failed && rb_buf_append(o->buf, s, n) != 0) o->failed = 1;
        return;
    }
    if (o->len + 1 >= o->cap) return;
    size_t room = o->cap - 1 - o->len;
    if (n > room) n = room;
    memcpy(o->fixed + o->len, s, n);
    o->len += n;
    o->fixed[o->len] = '\0';
}

/* ---- names -------------------------------------------------------------- */

static bool has_ci(const char *s, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(s + i, needle, m) == 0) return true;
    return false;
}

static bool is_ci(const char *s, size_t n, const char *word) {
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

bool rb_redact_sensitive_name(const char *name, size_t len) {
    static const char *const parts[] =
        {"password", "passwd",    "secret",      "credential",         "api_key",
         "apikey",   "api-key",   "private_key", "privatekey",         "user.info",
         "userinfo", "user_info", "jaas.config", "oauthbearer.config", "key.pem"};
    static const char *const words[] = {"pwd", "pass", "signature", "token"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (has_ci(name, len, parts[i])) return true;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (is_ci(name, len, words[i])) return true;
    /* session_token, access_token, sasl.oauthbearer.token, X-Auth-Token... */
    return len > 6 && strncasecmp(name + len - 5, "token", 5) == 0 &&
           strchr("._-", name[len - 6]) != NULL;
}

static bool sensitive_param(const char *name, size_t len) {
    static const char *const words[] = {"key", "auth",       "authorization",
                                        "sig", "access_key", "accesskey"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (is_ci(name, len, words[i])) return true;
    return rb_redact_sensitive_name(name, len);
}

/* ---- URIs --------------------------------------------------------------- */

static bool scheme_char(unsigned char c) { return isalnum(c) || c == '+' || c == '.' || c == '-'; }

/* Where a URI that starts at s ends in free text. */
static size_t uri_length(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && !isspace((unsigned char)s[i]) && !strchr("\"'<>`", s[i])) i++;
    return i;
}

/* A ':' or its percent-encoding "%3A" at s[i]; returns its length or 0. */
static size_t colon_at(const char *s, size_t n, size_t i) {
    if (s[i] == ':') return 1;
    if (i + 3 <= n && s[i] == '%' && s[i + 1] == '3' && (s[i + 2] == 'A' || s[i + 2] == 'a'))
        return 3;
    return 0;
}

/* A parameter value that is a list of NAME:VALUE properties
 * (authMechanismProperties=SERVICE_NAME:mongodb,AWS_SESSION_TOKEN:...):
 * the values of sensitive names are masked. */
static void put_properties(sink *o, const char *v, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && v[end] != ',' && !(end + 3 <= n && strncasecmp(v + end, "%2C", 3) == 0))
            end++;
        size_t c = i, clen = 0;
        while (c < end && !(clen = colon_at(v, end, c))) c++;
        if (clen && sensitive_param(v + i, c - i)) {
            put(o, v + i, c - i + clen);
            put(o, MASK, 3);
        } else {
            put(o, v + i, end - i);
        }
        if (end >= n) break;
        size_t sep = v[end] == ',' ? 1 : 3;
        put(o, v + end, sep);
        i = end + sep;
    }
}

/* name=value&name=value (a query or a fragment, without its '?' or '#'). */
static void put_params(sink *o, const char *q, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && q[end] != '&' && q[end] != ';') end++;
        const char *eq = memchr(q + i, '=', end - i);
        if (eq && sensitive_param(q + i, (size_t)(eq - (q + i)))) {
            put(o, q + i, (size_t)(eq - (q + i)) + 1);
            put(o, MASK, 3);
        } else if (eq) {
            put(o, q + i, (size_t)(eq - (q + i)) + 1);
            put_properties(o, eq + 1, (size_t)(q + end - (eq + 1)));
        } else {
            put(o, q + i, end - i);
        }
        if (end < n) put(o, q + end, 1);
        i = end + 1;
    }
}

static void put_uri(sink *o, const char *u, size_t n) {
    const char *sep = NULL;
    for (size_t i = 0; i + 3 <= n; i++)
        if (memcmp(u + i, "://", 3) == 0) {
            sep = u + i;
            break;
        }
    size_t start = (size_t)(sep - u) + 3;
    put(o, u, start);
    size_t auth_end = start;
    while (auth_end < n && !strchr("/?#", u[auth_end])) auth_end++;
    const char *at = NULL;
    for (size_t i = start; i < auth_end; i++)
        if (u[i] == '@') at = u + i;
    size_t host = start;
    if (at) {
        const char *colon = memchr(u + start, ':', (size_t)(at - (u + start)));
        size_t scheme_len = (size_t)(sep - u);
        bool token_scheme = is_ci(u, scheme_len, "http") || is_ci(u, scheme_len, "https") ||
                            is_ci(u, scheme_len, "ws") || is_ci(u, scheme_len, "wss");
        if (colon) {
            put(o, u + start, (size_t)(colon - (u + start)) + 1);
            put(o, MASK, 3);
        } else if (token_scheme) {
            put(o, MASK, 3);
        } else {
            put(o, u + start, (size_t)(at - (u + start)));
        }
        host = (size_t)(at - u);
    }
    size_t path_end = auth_end;
    while (path_end < n && u[path_end] != '?' && u[path_end] != '#') path_end++;
    put(o, u + host, path_end - host);
    size_t i = path_end;
    while (i < n) {
        size_t end = i + 1;
        while (end < n && u[end] != '#') end++;
        put(o, u + i, 1); /* '?' or '#' */
        put_params(o, u + i + 1, end - i - 1);
        i = end;
    }
}

/* ---- free text ---------------------------------------------------------- */

static bool name_char(unsigned char c) { return isalnum(c) || c == '_' || c == '.' || c == '-'; }

/* End of an unquoted value in free text. */
static size_t bare_value_end(const char *s, size_t n, size_t i) {
    while (i < n && !isspace((unsigned char)s[i]) && !strchr(",;&)]}\"'>", s[i])) i++;
    return i;
}

/* If a NAME at s[i..j) is followed by a separator and a value, returns
 * where the value starts (its opening quote, when quoted) and sets *quote. */
static size_t value_start(const char *s, size_t n, size_t i, size_t j, char *quote) {
    *quote = 0;
    size_t k = j;
    bool quoted_name = i > 0 && (s[i - 1] == '"' || s[i - 1] == '\'') && k < n && s[k] == s[i - 1];
    if (quoted_name) k++;
    size_t before = k;
    while (k < n && s[k] == ' ') k++;
    if (k >= n || (s[k] != '=' && s[k] != ':')) return 0;
    char sepc = s[k++];
    bool spaced = k - 1 > before;
    size_t after = k;
    while (k < n && s[k] == ' ') k++;
    if (k >= n) return 0;
    if (s[k] == '"' || s[k] == '\'') {
        *quote = s[k];
        return k;
    }
    /* Unquoted: NAME=VALUE or NAME = VALUE, and NAME:VALUE only when tight
     * ("reason: text" is prose, not a credential). */
    if (sepc == ':' && (spaced || k > after)) return 0;
    return k;
}

/* The offset of `needle` in s[from..n), or n. */
static size_t find(const char *s, size_t n, size_t from, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = from; i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0) return i;
    return n;
}

static void put_text(sink *o, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        bool boundary = i == 0 || !name_char((unsigned char)s[i - 1]);
        if (isalpha(c) && (i == 0 || !scheme_char((unsigned char)s[i - 1]))) {
            size_t j = i;
            while (j < n && scheme_char((unsigned char)s[j])) j++;
            if (j + 3 <= n && memcmp(s + j, "://", 3) == 0) {
                size_t len = uri_length(s + i, n - i);
                put_uri(o, s + i, len);
                i += len;
                continue;
            }
        }
        if (c == '-' && n - i > 11 && memcmp(s + i, "-----BEGIN ", 11) == 0) {
            /* A PEM block: its BEGIN line stays, its body goes, its END
             * line stays (a block cut short is masked to the end). */
            size_t close = find(s, n, i + 11, "-----");
            if (close < n) {
                put(o, s + i, close + 5 - i);
                put(o, MASK, 3);
                i = find(s, n, close + 5, "-----END ");
                continue;
            }
        }
        if (name_char(c) && boundary) {
            size_t j = i;
            while (j < n && name_char((unsigned char)s[j])) j++;
            char quote;
            size_t v = rb_redact_sensitive_name(s + i, j - i) ? value_start(s, n, i, j, &quote)
                                                              : 0;
            if (v) {
                put(o, s + i, v - i);
                if (quote) {
                    size_t k = v + 1;
                    while (k < n && s[k] != quote) k += s[k] == '\\' ? 2 : 1;
                    put(o, s + v, 1);
                    put(o, MASK, 3);
                    i = k < n ? k : n; /* the closing quote is copied next */
                } else {
                    put(o, MASK, 3);
                    i = bare_value_end(s, n, v);
                }
                continue;
            }
            if (is_ci(s + i, j - i, "bearer") && j < n && s[j] == ' ') {
                size_t k = j + 1, t = k;
                while (t < n && (isalnum((unsigned char)s[t]) || strchr("-._~+/=", s[t]))) t++;
                if (t - k >= 8) {
                    put(o, s + i, k - i);
                    put(o, MASK, 3);
                    i = t;
                    continue;
                }
            }
            put(o, s + i, j - i);
            i = j;
            continue;
        }
        put(o, s + i, 1);
        i++;
    }
}

/* ---- API ---------------------------------------------------------------- */

int rb_redact_append(rb_buf *out, const char *text, size_t len) {
    sink o = {.buf = out};
    size_t before = out->len;
    put_text(&o, text, len);
    if (!o.failed && !out->data && rb_buf_puts(out, "") != 0) o.failed = 1;
    if (o.failed) {
        out->len = before;
        if (out->data) out->data[before] = '\0';
        return -1;
    }
    return 0;
}

void rb_redact_to(char *out, size_t size, const char *text) {
    if (size == 0) return;
    sink o = {.fixed = out, .cap = size};
    out[0] = '\0';
    put_text(&o, text, strlen(text));
}

void rb_redact_in_place(char *s, size_t size) {
    /* Redaction reads ahead, so it writes into a copy first; the buffers on
     * this path are small (error messages, log lines). */
    char copy[4096];
    size_t n = strlen(s);
    if (n < sizeof copy) {
        memcpy(copy, s, n + 1);
        rb_redact_to(s, size, copy);
        return;
    }
    char *big = malloc(n + 1);
    if (!big) {
        /* Cannot redact without room: keep nothing rather than a secret. */
        if (size) s[0] = '\0';
        return;
    }
    memcpy(big, s, n + 1);
    rb_redact_to(s, size, big);
    free(big);
}

char *rb_redact_dup(const char *text) {
    rb_buf b;
    rb_buf_init(&b);
    if (rb_redact_append(&b, text, strlen(text)) != 0) {
        rb_buf_free(&b);
        return NULL;
    }
    return rb_buf_detach(&b);
}
