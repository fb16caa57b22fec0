/*
 * http.c -- the metrics/health endpoint: a minimal HTTP/1.1 server on its
 * own thread.  One connection at a time, one request per connection
 * (Connection: close), a byte limit and a deadline per client.  The thread
 * waits in poll() on the listening socket and a self-pipe, so stop wakes
 * it at once.
 */
#include "metrics/metrics.h"

#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct rb_metrics_server {
    rb_metrics *metrics;
    rb_metrics_ready_fn ready;
    void *ctx;
    int listen_fd;
    int wake[2]; /* self-pipe: stop writes, the thread wakes */
    int port;
    atomic_int stopping;
    pthread_t thread;
};

/* Waits until `fd` is ready for `events`, the deadline passes, or stop is
 * asked for.  Returns 1 when ready, 0 otherwise. */
static int wait_fd(rb_metrics_server *s, int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - rb_now_ms();
        if (left <= 0 || atomic_load(&s->stopping)) return 0;
        struct pollfd p[2] = {{fd, events, 0}, {s->wake[0], POLLIN, 0}};
        int n = poll(p, 2, (int)(left > 100 ? 100 : left));
        if (n < 0 && errno != EINTR) return 0;
        if (n > 0 && p[1].revents) return 0;
        if (n > 0 && p[0].revents) return 1;
    }
}

static void send_all(rb_metrics_server *s, int fd, const char *data, size_t len,
                     int64_t deadline) {
    while (len > 0) {
        if (!wait_fd(s, fd, POLLOUT, deadline)) return;
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n <= 0) return;
        data += n;
        len -= (size_t)n;
    }
}

static void respond(rb_metrics_server *s, int fd, int head_only, int status, const char *reason,
                    const char *type, const char *body, size_t len, int64_t deadline) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\nCache-Control: no-store\r\n\r\n",
                     status, reason, type, len);
    if (n < 0 || (size_t)n >= sizeof head) return;
    send_all(s, fd, head, (size_t)n, deadline);
    if (!head_only) send_all(s, fd, body, len, deadline);
}

#define TEXT "text/plain; charset=utf-8"

static void respond_text(rb_metrics_server *s, int fd, int head_only, int status,
                         const char *reason, const char *body, int64_t deadline) {
    respond(s, fd, head_only, status, reason, TEXT, body, strlen(body), deadline);
}

/* Reads the request head (up to the blank line) into `req`.  Returns its
 * length, 0 when the client went away or timed out, -1 when too large. */
static ssize_t read_head(rb_metrics_server *s, int fd, char *req, size_t cap, int64_t deadline) {
    size_t len = 0;
    for (;;) {
        if (len == cap - 1) return -1;
        if (!wait_fd(s, fd, POLLIN, deadline)) return 0;
        ssize_t n = recv(fd, req + len, cap - 1 - len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (n <= 0) return 0;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) return (ssize_t)len;
    }
}

static void serve_metrics(rb_metrics_server *s, int fd, int head_only, int64_t deadline) {
    rb_buf body;
    rb_buf_init(&body);
    if (rb_metrics_render(s->metrics, &body, NULL) != 0) {
        respond_text(s, fd, head_only, 500, "Internal Server Error", "out of memory\n", deadline);
    } else {
        respond(s, fd, head_only, 200, "OK", RB_METRICS_CONTENT_TYPE, body.data ? body.data : "",
                body.len, deadline);
    }
    rb_buf_free(&body);
}

static void serve_ready(rb_metrics_server *s, int fd, int head_only, int64_t deadline) {
    char reason[512] = "";
    if (!s->ready || s->ready(s->ctx, reason, sizeof reason - 1)) {
        respond_text(s, fd, head_only, 200, "OK", "ready\n", deadline);
        return;
    }
    reason[sizeof reason - 1] = '\0';
    char body[520];
    snprintf(body, sizeof body, "%s\n", reason[0] ? reason : "not ready");
    respond_text(s, fd, head_only, 503, "Service Unavailable", body, deadline);
}

static void serve_client(rb_metrics_server *s, int fd) {
    int64_t deadline = rb_now_ms() + RB_METRICS_CLIENT_TIMEOUT_MS;
    char *req = malloc(RB_METRICS_MAX_REQUEST + 1);
    if (!req) return;
    ssize_t len = read_head(s, fd, req, RB_METRICS_MAX_REQUEST + 1, deadline);
    if (len < 0) {
        respond_text(s, fd, 0, 431, "Request Header Fields Too Large", "request too large\n",
                     deadline);
    } else if (len > 0) {
        /* Request line: METHOD SP TARGET SP HTTP/x.y */
        char *eol = strpbrk(req, "\r\n");
        if (eol) *eol = '\0';
        char *sp1 = strchr(req, ' ');
        char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp1[1] != '/') {
            respond_text(s, fd, 0, 400, "Bad Request", "bad request\n", deadline);
        } else {
            *sp1 = *sp2 = '\0';
            char *path = sp1 + 1;
            path[strcspn(path, "?#")] = '\0';
            int head_only = strcmp(req, "HEAD") == 0;
            if (!head_only && strcmp(req, "GET") != 0)
                respond_text(s, fd, 0, 405, "Method Not Allowed", "method not allowed\n",
                             deadline);
            else if (strcmp(path, "/metrics") == 0)
                serve_metrics(s, fd, head_only, deadline);
            else if (strcmp(path, "/healthz") == 0)
                respond_text(s, fd, head_only, 200, "OK", "ok\n", deadline);
            else if (strcmp(path, "/readyz") == 0)
                serve_ready(s, fd, head_only, deadline);
            else
                respond_text(s, fd, head_only, 404, "Not Found", "not found\n", deadline);
        }
    }
    free(req);
}

static void *server_main(void *arg) {
    rb_metrics_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        struct pollfd p[2] = {{s->listen_fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        int n = poll(p, 2, 1000);
        if (n <= 0 || p[1].revents) continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0) continue;
        /* Non-blocking, so a client that stalls mid-send meets the deadline
         * in wait_fd instead of blocking the thread in recv/send. */
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        serve_client(s, fd);
        close(fd);
    }
    return NULL;
}

static int bind_listen(rb_metrics_server *s, const char *address, int port, rb_error *err) {
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *host = address && *address ? address : "0.0.0.0";
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "metrics: cannot resolve metrics.address '%s': %s", host,
                            gai_strerror(rc));
    int saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* Non-blocking: a connection reset between poll() and accept()
         * must not leave the thread blocked in accept(), deaf to stop. */
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
                char h[NI_MAXHOST], p[NI_MAXSERV];
                if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p,
                                NI_NUMERICHOST | NI_NUMERICSERV) == 0)
                    s->port = (int)strtol(p, NULL, 10);
            }
            s->listen_fd = fd;
            freeaddrinfo(res);
            return 0;
        }
        saved = errno;
        close(fd);
    }
    freeaddrinfo(res);
    return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                        "metrics: cannot listen on %s port %d: %s (check metrics.address and "
                        "metrics.port)",
                        host, port, strerror(saved));
}

rb_metrics_server *rb_metrics_server_start(rb_metrics *m, const char *address, int port,
                                           rb_metrics_ready_fn ready, void *ctx, rb_error *err) {
    if (port < 0 || port > 65535) {
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "metrics: port %d out of range", port);
        return NULL;
    }
    rb_metrics_server *s = calloc(1, sizeof *s);
    if (!s) {
        rb_error_nomem(err, RB_STAGE_NONE, "metrics server");
        return NULL;
    }
    s->metrics = m;
    s->ready = ready;
    s->ctx = ctx;
    s->listen_fd = -1;
    atomic_init(&s->stopping, 0);
    if (pipe(s->wake) != 0) {
        rb_error_set(err, RB_ERR_IO, RB_STAGE_NONE, "metrics: pipe: %s", strerror(errno));
        free(s);
        return NULL;
    }
    /* Non-blocking: stop must never wait on a full pipe. */
    for (int i = 0; i < 2; i++) {
        fcntl(s->wake[i], F_SETFD, FD_CLOEXEC);
        fcntl(s->wake[i], F_SETFL, O_NONBLOCK);
    }
    if (bind_listen(s, address, port, err) != 0) goto fail;
    int rc = pthread_create(&s->thread, NULL, server_main, s);
    if (rc != 0) {
        rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_NONE, "metrics: cannot start thread: %s",
                     strerror(rc));
        goto fail;
    }
    return s;
fail:
    if (s->listen_fd >= 0) close(s->listen_fd);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s);
    return NULL;
}

int rb_metrics_server_port(const rb_metrics_server *s) { return s->port; }

void rb_metrics_server_stop(rb_metrics_server *s) {
    if (!s) return;
    atomic_store(&s->stopping, 1);
    ssize_t n = write(s->wake[1], "x", 1);
    (void)n; /* the flag alone stops the thread within a poll interval */
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s);
}
