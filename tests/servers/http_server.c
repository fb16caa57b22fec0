/* http_server.c -- see http_server.h. */
#include "http_server.h"

#include "common/buf.h"
#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct hs_server {
    int fd, port;
    hs_handler handler;
    void *ctx;
    pthread_t acceptor;
    pthread_mutex_t mu;
    _Atomic int stopping;
    int conns; /* connection threads alive */
};

typedef struct hs_conn {
    hs_server *s;
    int fd;
} hs_conn;

int hs_send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int hs_header(const char *head, const char *name, char *out, size_t size) {
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

static void conn_done(hs_server *s) {
    pthread_mutex_lock(&s->mu);
    s->conns--;
    pthread_mutex_unlock(&s->mu);
}

/* Reads requests off one connection and hands each to the handler. */
static void *conn_main(void *arg) {
    hs_conn c = *(hs_conn *)arg;
    free(arg);
    rb_buf in;
    rb_buf_init(&in);
    char chunk[16384];
    for (;;) {
        char *end = in.data ? strstr(in.data, "\r\n\r\n") : NULL;
        if (end) {
            size_t head_len = (size_t)(end - in.data) + 4;
            char cl[32] = "0";
            in.data[head_len - 2] = '\0'; /* the header lookup stops at the head */
            hs_header(in.data, "Content-Length", cl, sizeof cl);
            size_t body_len = (size_t)strtoull(cl, NULL, 10);
            if (in.len >= head_len + body_len) {
                c.s->handler(c.s->ctx, c.fd, in.data, in.data + head_len, body_len);
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
    conn_done(c.s);
    return NULL;
}

static void *accept_main(void *arg) {
    hs_server *s = arg;
    while (!s->stopping) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0) continue;
        hs_conn *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        pthread_mutex_lock(&s->mu);
        s->conns++;
        pthread_mutex_unlock(&s->mu);
        pthread_t t;
        if (pthread_create(&t, NULL, conn_main, c) != 0) {
            free(c);
            close(fd);
            conn_done(s);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

hs_server *hs_start(int port, hs_handler handler, void *ctx) {
    hs_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->handler = handler;
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (s->fd >= 0) setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    socklen_t len = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->fd, 128) != 0 || getsockname(s->fd, (struct sockaddr *)&a, &len) != 0 ||
        pthread_create(&s->acceptor, NULL, accept_main, s) != 0) {
        if (s->fd >= 0) close(s->fd);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    return s;
}

int hs_port(const hs_server *s) { return s->port; }

void hs_stop(hs_server *s) {
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
    pthread_mutex_destroy(&s->mu);
    free(s);
}
