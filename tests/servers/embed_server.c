#include "embed_server.h"

#include "common/buf.h"
#include "common/clock.h"
#include "validate/json.h"

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
    int fd, port;
    size_t dim;
    pthread_t acceptor;
    pthread_mutex_t mu;
    es_faults faults;
    es_stats stats;
    size_t in_flight;
    double *times;
    size_t ntimes;
    _Atomic int stopping;
    int conns; /* threads alive */
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

typedef struct conn {
    es_server *s;
    int fd;
} conn;

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
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
    rb_buf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
                  status, reason, strlen(body), extra_headers ? extra_headers : "");
    rb_buf_puts(&b, body);
    int rc = b.data ? send_all(fd, b.data, b.len) : -1;
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

static int header_value(const char *head, const char *name, char *out, size_t size) {
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= size) len = size - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 1;
        }
    }
    return 0;
}

static void serve_request(es_server *s, int fd, const char *head, const char *body,
                          size_t body_len) {
    char path[256] = "";
    sscanf(head, "%*s %255s", path);
    char auth[256] = "";
    if (!header_value(head, "Authorization", auth, sizeof auth))
        header_value(head, "api-key", auth, sizeof auth);
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
            if (!tei) rb_buf_printf(&out, "{\"object\":\"embedding\",\"index\":%zu,\"embedding\":", i);
            rb_buf_putc(&out, '[');
            for (size_t j = 0; j < dim; j++) {
                if (j) rb_buf_putc(&out, ',');
                if (nan && j == 0) rb_buf_puts(&out, "NaN");
                else rb_buf_printf(&out, "%.9g", (double)v[j]);
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

static void *conn_main(void *arg) {
    conn c = *(conn *)arg;
    free(arg);
    rb_buf in;
    rb_buf_init(&in);
    char chunk[65536];
    for (;;) {
        char *end = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
        if (end) {
            size_t head_len = (size_t)(end - in.data) + 4;
            char cl[32] = "0";
            in.data[head_len - 2] = '\0'; /* header_value stops at the head */
            header_value(in.data, "Content-Length", cl, sizeof cl);
            size_t body_len = (size_t)strtoull(cl, NULL, 10);
            if (in.len >= head_len + body_len) {
                char expect[32];
                (void)expect;
                serve_request(c.s, c.fd, in.data, in.data + head_len, body_len);
                size_t used = head_len + body_len;
                memmove(in.data, in.data + used, in.len - used);
                in.len -= used;
                in.data[in.len] = '\0';
                continue;
            }
            in.data[head_len - 2] = '\r';
        }
        struct pollfd p = {c.fd, POLLIN, 0};
        int pr = poll(&p, 1, 200);
        if (c.s->stopping) break;
        if (pr <= 0) continue;
        ssize_t r = recv(c.fd, chunk, sizeof chunk, 0);
        if (r <= 0) break;
        if (rb_buf_append(&in, chunk, (size_t)r) != 0) break;
    }
    rb_buf_free(&in);
    close(c.fd);
    pthread_mutex_lock(&c.s->mu);
    c.s->conns--;
    pthread_mutex_unlock(&c.s->mu);
    return NULL;
}

static void *accept_main(void *arg) {
    es_server *s = arg;
    while (!s->stopping) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0) continue;
        conn *c = malloc(sizeof *c);
        pthread_t t;
        if (!c) {
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        pthread_mutex_lock(&s->mu);
        s->conns++;
        pthread_mutex_unlock(&s->mu);
        if (pthread_create(&t, NULL, conn_main, c) != 0) {
            free(c);
            close(fd);
            pthread_mutex_lock(&s->mu);
            s->conns--;
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

es_server *es_server_start(int port, size_t dim) {
    es_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->times = calloc(ES_MAX_TIMES, sizeof *s->times);
    s->dim = dim;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    socklen_t len = sizeof a;
    if (!s->times || s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->fd, 128) != 0 || getsockname(s->fd, (struct sockaddr *)&a, &len) != 0 ||
        pthread_create(&s->acceptor, NULL, accept_main, s) != 0) {
        if (s->fd >= 0) close(s->fd);
        free(s->times);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    return s;
}

int es_server_port(const es_server *s) { return s->port; }

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
    s->stopping = 1;
    pthread_join(s->acceptor, NULL);
    /* Connection threads notice `stopping` within one poll interval. */
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&s->mu);
        int left = s->conns;
        pthread_mutex_unlock(&s->mu);
        if (left == 0) break;
        rb_sleep_ms(20);
    }
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s->times);
    free(s);
}
