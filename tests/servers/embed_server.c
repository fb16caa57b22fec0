#include "embed_server.h"

#include "http_server.h"

#include "common/buf.h"
#include "common/clock.h"
#include "json/json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct es_server {
    hs_server *http;
    size_t dim;
    pthread_mutex_t mu;
    es_faults faults;
    es_stats stats;
    size_t in_flight;
    double *times;
    size_t ntimes;
};

void es_vector(const char *text, size_t dim, float *out) {
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    if (!h) h = 1;
    double norm = 0;
    for (size_t i = 0; i < dim; i++) {
        h ^= h >> 12;
        h ^= h << 25;
        h ^= h >> 27;
        uint64_t r = h * 2685821657736338717ull;
        out[i] = (float)((double)(r >> 11) / 9007199254740992.0 * 2.0 - 1.0);
        norm += (double)out[i] * out[i];
    }
    norm = sqrt(norm);
    for (size_t i = 0; i < dim; i++) out[i] = (float)(out[i] / norm);
}

static int respond(int fd, int status, const char *extra_headers, const char *body) {
    const char *reason = status == 200   ? "OK"
                         : status == 413 ? "Payload Too Large"
                         : status == 429 ? "Too Many Requests"
                         : status == 401 ? "Unauthorized"
                         : status == 404 ? "Not Found"
                         : status == 400 ? "Bad Request"
                         : status == 422 ? "Unprocessable Entity"
                                         : "Internal Server Error";
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_printf(&b,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
                  "%zu\r\n%s\r\n",
                  status, reason, strlen(body), extra_headers ? extra_headers : "");
    rb_buf_puts(&b, body);
    int rc = b.data ? hs_send_all(fd, b.data, b.len) : -1;
    rb_buf_free(&b);
    return rc;
}

/* Takes one from a fault counter; returns whether it fired. */
static int take(int *counter) {
    if (*counter > 0) {
        (*counter)--;
        return 1;
    }
    return 0;
}

static void serve_request(void *ctx, int fd, const char *head, const char *body, size_t body_len) {
    es_server *s = ctx;
    char path[256] = "";
    sscanf(head, "%*s %255s", path);
    char auth[256] = "";
    if (!hs_header(head, "Authorization", auth, sizeof auth))
        hs_header(head, "api-key", auth, sizeof auth);
    int tei = strstr(path, "/embed") && !strstr(path, "/embeddings");
    rb_json_doc *doc = NULL;
    const rb_json *inputs = NULL;
    if (rb_json_parse(body, body_len, NULL, &doc, NULL) == 0)
        inputs = rb_json_get(rb_json_doc_root(doc), tei ? "inputs" : "input");
    size_t n = inputs && inputs->type == RB_JSON_ARRAY ? inputs->count : 0;

    pthread_mutex_lock(&s->mu);
    es_faults f = s->faults;
    s->stats.requests++;
    s->stats.inputs += n;
    if (n > s->stats.max_batch) s->stats.max_batch = n;
    snprintf(s->stats.last_auth, sizeof s->stats.last_auth, "%s", auth);
    snprintf(s->stats.last_path, sizeof s->stats.last_path, "%s", path);
    snprintf(s->stats.last_body_head, sizeof s->stats.last_body_head, "%.*s",
             (int)(body_len < 255 ? body_len : 255), body);
    if (s->ntimes < ES_MAX_TIMES) s->times[s->ntimes++] = rb_now_sec();
    s->in_flight++;
    if (s->in_flight > s->stats.max_in_flight) s->stats.max_in_flight = s->in_flight;
    int do429 = take(&s->faults.n429), do500 = !do429 && take(&s->faults.n500);
    int do401 = !do429 && !do500 && take(&s->faults.n401);
    int do413 = !do429 && !do500 && !do401 && f.max_inputs != 0 &&
                (f.max_inputs < 0 || n > (size_t)f.max_inputs);
    int refused = do429 || do500 || do401 || do413;
    int slow = !refused && take(&s->faults.nslow);
    int badjson = !refused && take(&s->faults.nbadjson);
    int wrongdim = !refused && !badjson && take(&s->faults.nwrongdim);
    int nan = !refused && !badjson && !wrongdim && take(&s->faults.nnan);
    int wrongcount = !refused && !badjson && !wrongdim && !nan && take(&s->faults.nwrongcount);
    if (!refused) s->stats.ok_inputs += n;
    pthread_mutex_unlock(&s->mu);

    if (f.delay_ms > 0) rb_sleep_ms(f.delay_ms);
    if (slow) rb_sleep_ms(f.slow_ms);
    rb_buf out;
    rb_buf_init(&out);
    if (!doc || !inputs) {
        respond(fd, 400, NULL, "{\"error\":{\"message\":\"request is not JSON with inputs\"}}");
    } else if (do429) {
        char hdr[128] = "";
        if (f.retry_after[0]) snprintf(hdr, sizeof hdr, "Retry-After: %s\r\n", f.retry_after);
        respond(fd, 429, hdr,
                "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":"
                "\"requests\"}}");
    } else if (do500) {
        respond(fd, 500, NULL, "{\"error\":{\"message\":\"The server had an error\"}}");
    } else if (do401) {
        rb_buf_puts(&out, "{\"error\":{\"message\":\"Incorrect API key provided: ");
        rb_buf_puts(&out, auth);
        rb_buf_puts(&out, "\"}}");
        respond(fd, 401, NULL, out.data);
    } else if (do413) {
        /* TEI answers 422 with its words (no 413): the client must read them */
        if (tei)
            respond(fd, 422, NULL,
                    "{\"error\":\"Input validation error: batch size 4 > maximum allowed "
                    "batch size 1\",\"error_type\":\"Validation\"}");
        else
            respond(fd, 413, NULL,
                    "{\"error\":{\"message\":\"Request too large: too many tokens\"}}");
    } else {
        size_t dim = s->dim - (wrongdim ? 1 : 0);
        float *v = malloc((s->dim + 1) * sizeof *v);
        size_t count = n - (wrongcount ? 1 : 0);
        rb_buf_puts(&out, tei ? "[" : "{\"object\":\"list\",\"data\":[");
        for (size_t k = 0; k < count && v; k++) {
            size_t i = f.reverse ? count - 1 - k : k;
            const char *text = rb_json_string(&inputs->items[i]);
            es_vector(text ? text : "", s->dim, v);
            if (k) rb_buf_putc(&out, ',');
            if (!tei)
                rb_buf_printf(&out, "{\"object\":\"embedding\",\"index\":%zu,\"embedding\":", i);
            rb_buf_putc(&out, '[');
            for (size_t j = 0; j < dim; j++) {
                if (j) rb_buf_putc(&out, ',');
                if (nan && j == 0)
                    rb_buf_puts(&out, "NaN");
                else
                    rb_buf_printf(&out, "%.9g", (double)v[j]);
            }
            rb_buf_putc(&out, ']');
            if (!tei) rb_buf_putc(&out, '}');
        }
        free(v);
        rb_buf_puts(&out, tei ? "]" : "],\"model\":\"test\",\"usage\":{\"prompt_tokens\":1}}");
        if (badjson && out.len > 10) out.data[out.len / 2] = '\0';
        respond(fd, 200, NULL, out.data ? out.data : "");
    }
    rb_buf_free(&out);
    rb_json_doc_destroy(doc);
    pthread_mutex_lock(&s->mu);
    s->in_flight--;
    pthread_mutex_unlock(&s->mu);
}

es_server *es_server_start(int port, size_t dim) {
    es_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->times = calloc(ES_MAX_TIMES, sizeof *s->times);
    s->dim = dim;
    pthread_mutex_init(&s->mu, NULL);
    if (!s->times || !(s->http = hs_start(port, serve_request, s))) {
        pthread_mutex_destroy(&s->mu);
        free(s->times);
        free(s);
        return NULL;
    }
    return s;
}

int es_server_port(const es_server *s) { return hs_port(s->http); }

void es_server_faults_set(es_server *s, const es_faults *f) {
    pthread_mutex_lock(&s->mu);
    s->faults = *f;
    pthread_mutex_unlock(&s->mu);
}

void es_server_stats(es_server *s, es_stats *out) {
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

size_t es_server_times(es_server *s, double *out, size_t max) {
    pthread_mutex_lock(&s->mu);
    size_t n = s->ntimes < max ? s->ntimes : max;
    memcpy(out, s->times, n * sizeof *out);
    pthread_mutex_unlock(&s->mu);
    return n;
}

void es_server_reset_stats(es_server *s) {
    pthread_mutex_lock(&s->mu);
    memset(&s->stats, 0, sizeof s->stats);
    s->ntimes = 0;
    pthread_mutex_unlock(&s->mu);
}

void es_server_stop(es_server *s) {
    if (!s) return;
    hs_stop(s->http);
    pthread_mutex_destroy(&s->mu);
    free(s->times);
    free(s);
}
