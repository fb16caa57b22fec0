/*
 * schema_format.c -- format checks (schema_format.h).
 */
#include "validate/schema_format.h"

#include "common/rfc3339.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    schema_format format;
    const char *describe;
} formats[] = {
    {"date-time", FORMAT_DATE_TIME, "an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z)"},
    {"date", FORMAT_DATE, "an RFC 3339 full-date (e.g. 2024-05-01)"},
    {"time", FORMAT_TIME, "an RFC 3339 full-time (e.g. 12:00:00Z)"},
    {"email", FORMAT_EMAIL, "an email address"},
    {"hostname", FORMAT_HOSTNAME, "a hostname"},
    {"ipv4", FORMAT_IPV4, "an IPv4 address"},
    {"ipv6", FORMAT_IPV6, "an IPv6 address"},
    {"uri", FORMAT_URI, "an absolute URI"},
    {"uri-reference", FORMAT_URI_REFERENCE, "a URI reference"},
    {"uuid", FORMAT_UUID, "a UUID"},
    {"regex", FORMAT_REGEX, "a regular expression"},
    {"json-pointer", FORMAT_JSON_POINTER, "a JSON pointer"},
    {"relative-json-pointer", FORMAT_RELATIVE_JSON_POINTER, "a relative JSON pointer"},
};

schema_format rb_schema_format_lookup(const char *name) {
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (strcmp(name, formats[i].name) == 0) return formats[i].format;
    return FORMAT_NONE;
}

bool rb_schema_format_is_unchecked(const char *name) {
    static const char *const unchecked[] = {"idn-email",     "idn-hostname", "iri",
                                            "iri-reference", "uri-template", "duration"};
    for (size_t i = 0; i < sizeof unchecked / sizeof *unchecked; i++)
        if (strcmp(name, unchecked[i]) == 0) return true;
    return false;
}

const char *rb_schema_format_describe(schema_format f) {
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (formats[i].format == f) return formats[i].describe;
    return "valid";
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Prefixes a partial RFC 3339 value so that the one date-time parser checks it. */
static bool rfc3339_with(const char *prefix, const char *s, size_t len, const char *suffix) {
    char buf[96];
    if (len > 64) return false;
    int n = snprintf(buf, sizeof buf, "%s%.*s%s", prefix, (int)len, s, suffix);
    return n > 0 && (size_t)n < sizeof buf && rb_rfc3339_parse(buf, NULL) == 0;
}

static bool check_date(const char *s, size_t len) {
    /* full-date only: the suffix must not be able to complete a time */
    if (len != 10) return false;
    return rfc3339_with("", s, len, "T00:00:00Z");
}

static bool check_time(const char *s, size_t len) {
    /* 2016-12-31 ends in a day with a leap second, so 23:59:60Z passes
     * and 12:00:60Z still fails (rfc3339.h checks where :60 falls). */
    if (len < 9) return false;
    return rfc3339_with("2016-12-31T", s, len, "");
}

static bool check_hostname(const char *s, size_t len) {
    if (len == 0 || len > 253) return false;
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63) return false;
            if (s[i - 1] == '-') return false;
            label = 0;
            continue;
        }
        if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
        if (label == 0 && c == '-') return false;
        label++;
    }
    return true;
}

static bool check_ipv4(const char *s, size_t len) {
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= len || s[i] != '.') return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && is_digit(s[i]) && i - start < 3) v = v * 10 + (unsigned)(s[i++] - '0');
        size_t n = i - start;
        if (n == 0 || v > 255 || (n > 1 && s[start] == '0')) return false;
    }
    return i == len;
}

static bool check_ipv6(const char *s, size_t len) {
    int groups = 0;
    bool compressed = false;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = true;
        i = 2;
    } else if (len >= 1 && s[0] == ':') {
        return false;
    }
    while (i < len) {
        size_t start = i;
        while (i < len && is_hex(s[i]) && i - start < 5) i++;
        size_t n = i - start;
        if (i < len && s[i] == '.') {
            /* An IPv4 tail stands for the last two groups. */
            if (!check_ipv4(s + start, len - start)) return false;
            groups += 2;
            i = len;
            break;
        }
        if (n == 0 || n > 4) return false;
        groups++;
        if (i == len) break;
        if (s[i] != ':') return false;
        i++;
        if (i < len && s[i] == ':') {
            if (compressed) return false;
            compressed = true;
            i++;
        } else if (i == len) {
            return false; /* a trailing single ':' */
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

static bool check_uuid(const char *s, size_t len) {
    if (len != 36) return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return true;
}

/* RFC 3986 characters allowed outside %-escapes anywhere in a reference
 * (unreserved, gen-delims other than the ones that structure it, sub-delims). */
static bool uri_char(char c) {
    return is_alpha(c) || is_digit(c) || strchr("-._~!$&'()*+,;=:@/?#[]", c) != NULL;
}

/* Checks %-escapes and characters, at most one '#', '[' and ']' only in
 * the authority's IP literal. */
static bool uri_chars_ok(const char *s, size_t len) {
    bool fragment = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len) return false;
            if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
            i += 2;
            continue;
        }
        if (c == '#') {
            if (fragment) return false;
            fragment = true;
            continue;
        }
        if (!uri_char(c) || (unsigned char)c < 0x21) return false;
    }
    return true;
}

/* The authority after "//": [userinfo@]host[:port]. */
static bool authority_ok(const char *s, size_t len) {
    const char *at = memchr(s, '@', len);
    if (at) {
        if (memchr(s, '[', (size_t)(at - s)) || memchr(s, ']', (size_t)(at - s))) return false;
        len -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    size_t host_end = len;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close) return false;
        if (!check_ipv6(s + 1, (size_t)(close - s - 1))) return false;
        host_end = (size_t)(close - s + 1);
    } else {
        for (size_t i = 0; i < len; i++)
            if (s[i] == ':') {
                host_end = i;
                break;
            } else if (s[i] == '[' || s[i] == ']') {
                return false;
            }
    }
    if (host_end < len) {
        if (s[host_end] != ':') return false;
        for (size_t i = host_end + 1; i < len; i++)
            if (!is_digit(s[i])) return false;
    }
    return true;
}

static bool check_uri_reference(const char *s, size_t len, bool need_scheme) {
    if (!uri_chars_ok(s, len)) return false;
    size_t i = 0;
    bool scheme = false;
    if (len && is_alpha(s[0])) {
        while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || strchr("+-.", s[i]))) i++;
        scheme = i < len && s[i] == ':';
    }
    if (need_scheme && !scheme) return false;
    size_t rest = scheme ? i + 1 : 0;
    if (!scheme) {
        /* A relative reference's first segment may not contain ':'. */
        for (size_t k = 0; k < len && !strchr("/?#", s[k]); k++)
            if (s[k] == ':') return false;
    }
    if (len - rest >= 2 && s[rest] == '/' && s[rest + 1] == '/') {
        size_t a = rest + 2, e = a;
        while (e < len && !strchr("/?#", s[e])) e++;
        if (!authority_ok(s + a, e - a)) return false;
        rest = e;
    }
    /* '[' and ']' belong to the authority only. */
    for (size_t k = rest; k < len; k++)
        if (s[k] == '[' || s[k] == ']') return false;
    return true;
}

static bool check_email(const char *s, size_t len) {
    const char *at = NULL;
    for (size_t i = len; i > 0; i--)
        if (s[i - 1] == '@') {
            at = s + i - 1;
            break;
        }
    if (!at) return false;
    size_t local = (size_t)(at - s), dlen = len - local - 1;
    const char *domain = at + 1;
    if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.') return false;
    for (size_t i = 0; i < local; i++) {
        char c = s[i];
        if (c == '.' && s[i + 1] == '.') return false;
        if (!is_alpha(c) && !is_digit(c) && !strchr(".!#$%&'*+-/=?^_`{|}~", c)) return false;
    }
    if (dlen >= 2 && domain[0] == '[' && domain[dlen - 1] == ']') {
        if (dlen > 7 && strncmp(domain + 1, "IPv6:", 5) == 0)
            return check_ipv6(domain + 6, dlen - 7);
        return check_ipv4(domain + 1, dlen - 2);
    }
    return check_hostname(domain, dlen);
}

static bool check_json_pointer(const char *s, size_t len) {
    if (len && s[0] != '/') return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1'))) return false;
    return true;
}

static bool check_relative_json_pointer(const char *s, size_t len) {
    size_t i = 0;
    while (i < len && is_digit(s[i])) i++;
    if (i == 0 || (i > 1 && s[0] == '0')) return false;
    if (i < len && s[i] == '#') return i + 1 == len;
    return check_json_pointer(s + i, len - i);
}

bool rb_schema_format_check(schema_format f, const char *s, size_t len) {
    switch (f) {
    case FORMAT_NONE: return true;
    case FORMAT_DATE_TIME: return rb_rfc3339_parse(s, NULL) == 0;
    case FORMAT_DATE: return check_date(s, len);
    case FORMAT_TIME: return check_time(s, len);
    case FORMAT_EMAIL: return check_email(s, len);
    case FORMAT_HOSTNAME: return check_hostname(s, len);
    case FORMAT_IPV4: return check_ipv4(s, len);
    case FORMAT_IPV6: return check_ipv6(s, len);
    case FORMAT_URI: return check_uri_reference(s, len, true);
    case FORMAT_URI_REFERENCE: return check_uri_reference(s, len, false);
    case FORMAT_UUID: return check_uuid(s, len);
    case FORMAT_REGEX: {
        char why[160];
        rb_schema_regex *re = rb_schema_regex_compile(s, why, sizeof why);
        rb_schema_regex_free(re);
        return re != NULL;
    }
    case FORMAT_JSON_POINTER: return check_json_pointer(s, len);
    case FORMAT_RELATIVE_JSON_POINTER: return check_relative_json_pointer(s, len);
    }
    return true;
}
