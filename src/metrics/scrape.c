/* scrape.c -- one GET of /metrics and a sample out of it; see scrape.h. */
#include "metrics/scrape.h"

#include "common/buf.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

/* A /metrics answer of ragbatch is a few kilobytes; more is not one. */
#define MAX_BODY (4u << 20)

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp) {
    rb_buf *b = userp;
    size_t n = size * nmemb;
    if (b->len + n > MAX_BODY) return 0;
    return rb_buf_append(b, data, n) == 0 ? n : 0;
}

int rb_metrics_scrape(const char *url, long timeout_ms, char **body, rb_error *err) {
    *body = NULL;
    CURL *c = curl_easy_init();
    if (!c) return rb_error_nomem(err, RB_STAGE_NONE, "libcurl handle");
    rb_buf b;
    rb_buf_init(&b);
    char msg[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, msg);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    int ret = 0;
    if (rc != CURLE_OK)
        ret = rb_error_set_retriable(err, RB_ERR_HTTP, RB_STAGE_NONE, "%s: %s", url,
                                     msg[0] ? msg : curl_easy_strerror(rc));
    else if (status != 200)
        ret = rb_error_set_retriable(err, RB_ERR_HTTP, RB_STAGE_NONE, "%s: HTTP %ld", url, status);
    else if (rb_buf_putc(&b, '\0') != 0)
        ret = rb_error_nomem(err, RB_STAGE_NONE, "metrics");
    if (ret == 0) *body = rb_buf_detach(&b);
    rb_buf_free(&b);
    return ret;
}

/* Whether the label set `set` (between the braces, `len` bytes) holds `pair`. */
static bool has_pair(const char *set, size_t len, const char *pair) {
    size_t n = strlen(pair);
    for (const char *p = set; p + n <= set + len; p++) {
        if ((p == set || p[-1] == ',') && strncmp(p, pair, n) == 0 &&
            (p + n == set + len || p[n] == ','))
            return true;
    }
    return false;
}

bool rb_metrics_sample(const char *body, const char *name, const char *const *labels,
                       size_t nlabels, double *out) {
    size_t nlen = strlen(name);
    for (const char *line = body; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (line[0] != '#' && len > nlen && strncmp(line, name, nlen) == 0 &&
            (line[nlen] == '{' || line[nlen] == ' ')) {
            const char *set = line + nlen, *after = set;
            size_t setlen = 0;
            if (*set == '{') {
                const char *close = memchr(set, '}', len - nlen);
                if (close) {
                    setlen = (size_t)(close - set - 1);
                    after = close + 1;
                    set++;
                }
            }
            bool all = true;
            for (size_t i = 0; i < nlabels && all; i++) all = has_pair(set, setlen, labels[i]);
            char *num_end = NULL;
            double v = strtod(after, &num_end);
            if (all && num_end != after) {
                *out = v;
                return true;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return false;
}
