/* registry_server.c -- see registry_server.h. */
#include "registry_server.h"

#include "common/buf.h"
#include "common/clock.h"
#include "validate/json.h"

#include <arpa/inet.h>
#include <errno.h>
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

#define RS_MAX_SCHEMAS 64

struct rs_server {
    int fd, port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    char expected_auth[512]; /* "Basic <base64>" or "" */
    char *schemas[RS_MAX_SCHEMAS]; /* schema text of id i+1 */
    size_t nschemas;
    size_t gets_of[RS_MAX_SCHEMAS + 2];
    rs_stats stats;
    _Atomic int stopping;
    int conns;
};

typedef struct rs_conn {
    rs_server *s;
    int fd;
} rs_conn;

static void rs_base64(const char *in, char *out, size_t size) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n && o + 5 < size; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

static int rs_send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void rs_respond(int fd, int status, const char *body) {
    const char *reason = status == 200 ? "OK" : status == 401 ? "Unauthorized"
                       : status == 404 ? "Not Found" : "Bad Request";
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_printf(&b,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
                  "Content-Length: %zu\r\n\r\n%s",
                  status, reason, strlen(body), body);
    if (b.data) rs_send_all(fd, b.data, b.len);
    rb_buf_free(&b);
}

static int rs_header(const char *head, const char *name, char *out, size_t size) {
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

static void rs_serve(rs_server *s, int fd, const char *head, const char *body, size_t body_len) {
    char method[16] = "", path[256] = "", auth[256] = "";
    sscanf(head, "%15s %255s", method, path);
    rs_header(head, "Authorization", auth, sizeof auth);
    rb_buf out;
    rb_buf_init(&out);
    int status = 200;
    pthread_mutex_lock(&s->mu);
    snprintf(s->stats.last_auth, sizeof s->stats.last_auth, "%s", auth);
    unsigned id = 0;
    int is_get = strcmp(method, "GET") == 0 && sscanf(path, "/schemas/ids/%u", &id) == 1;
    int is_post = strcmp(method, "POST") == 0 && strncmp(path, "/subjects/", 10) == 0 &&
                  strstr(path, "/versions") != NULL;
    if (is_get) {
        s->stats.gets++;
        s->gets_of[id <= RS_MAX_SCHEMAS ? id : RS_MAX_SCHEMAS + 1]++;
    }
    if (is_post) s->stats.posts++;
    if (s->expected_auth[0] && strcmp(auth, s->expected_auth) != 0) {
        s->stats.unauthorized++;
        status = 401;
        rb_buf_puts(&out, "{\"error_code\":401,\"message\":\"Unauthorized\"}");
    } else if (is_get && id >= 1 && id <= s->nschemas) {
        rb_buf_puts(&out, "{\"schema\":");
        rb_buf_json_string(&out, s->schemas[id - 1], strlen(s->schemas[id - 1]));
        rb_buf_puts(&out, ",\"schemaType\":\"JSON\"}");
    } else if (is_get) {
        status = 404;
        rb_buf_puts(&out, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
    } else if (is_post) {
        rb_json_doc *doc = NULL;
        const char *text = NULL;
        if (rb_json_parse(body, body_len, NULL, &doc, NULL) == 0)
            text = rb_json_string(rb_json_get(rb_json_doc_root(doc), "schema"));
        size_t i = 0;
        while (text && i < s->nschemas && strcmp(s->schemas[i], text) != 0) i++;
        if (text && i == s->nschemas && s->nschemas < RS_MAX_SCHEMAS) {
            s->schemas[i] = strdup(text);
            if (s->schemas[i]) s->nschemas++;
        }
        if (text && i < s->nschemas) {
            rb_buf_printf(&out, "{\"id\":%zu}", i + 1);
        } else {
            status = 400;
            rb_buf_puts(&out, "{\"error_code\":42201,\"message\":\"Invalid schema\"}");
        }
        rb_json_doc_destroy(doc);
    } else {
        status = 404;
        rb_buf_puts(&out, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
    }
    pthread_mutex_unlock(&s->mu);
    rs_respond(fd, status, out.data ? out.data : "");
    rb_buf_free(&out);
}

static void *rs_conn_main(void *arg) {
    rs_conn c = *(rs_conn *)arg;
    free(arg);
    rb_buf in;
    rb_buf_init(&in);
    char chunk[16384];
    for (;;) {
        char *end = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
        if (end) {
            size_t head_len = (size_t)(end - in.data) + 4;
            char cl[32] = "0";
            in.data[head_len - 2] = '\0';
            rs_header(in.data, "Content-Length", cl, sizeof cl);
            size_t body_len = (size_t)strtoull(cl, NULL, 10);
            if (in.len >= head_len + body_len) {
                rs_serve(c.s, c.fd, in.data, in.data + head_len, body_len);
                size_t used = head_len + body_len;
                memmove(in.data, in.data + used, in.len - used);
                in.len -= used;
                in.data[in.len] = '\0';
                continue;
            }
            in.data[head_len - 2] = '\r';
        }
        struct pollfd p = {c.fd, POLLIN, 0};
        int pr = poll(&p, 1, 100);
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

static void *rs_accept_main(void *arg) {
    rs_server *s = arg;
    while (!s->stopping) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0) continue;
        rs_conn *c = malloc(sizeof *c);
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
        if (pthread_create(&t, NULL, rs_conn_main, c) != 0) {
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

rs_server *rs_server_start(const char *user_info) {
    rs_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (user_info && user_info[0]) {
        char b64[400];
        rs_base64(user_info, b64, sizeof b64);
        snprintf(s->expected_auth, sizeof s->expected_auth, "Basic %s", b64);
    }
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (s->fd >= 0) setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->fd, 64) != 0 || getsockname(s->fd, (struct sockaddr *)&a, &len) != 0 ||
        pthread_create(&s->acceptor, NULL, rs_accept_main, s) != 0) {
        if (s->fd >= 0) close(s->fd);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    return s;
}

int rs_server_port(const rs_server *s) { return s->port; }

void rs_server_stats(rs_server *s, rs_stats *out) {
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

size_t rs_server_gets_of(rs_server *s, unsigned id) {
    pthread_mutex_lock(&s->mu);
    size_t n = s->gets_of[id <= RS_MAX_SCHEMAS ? id : RS_MAX_SCHEMAS + 1];
    pthread_mutex_unlock(&s->mu);
    return n;
}

void rs_server_stop(rs_server *s) {
    if (!s) return;
    s->stopping = 1;
    pthread_join(s->acceptor, NULL);
    close(s->fd); /* from here connections are refused */
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&s->mu);
        int left = s->conns;
        pthread_mutex_unlock(&s->mu);
        if (left == 0) break;
        rb_sleep_ms(20);
    }
    for (size_t i = 0; i < s->nschemas; i++) free(s->schemas[i]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
