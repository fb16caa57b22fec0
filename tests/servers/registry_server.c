/* registry_server.c -- see registry_server.h. */
#include "registry_server.h"

#include "http_server.h"

#include "common/buf.h"
#include "common/clock.h"
#include "json/json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
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
    hs_server *http;
    pthread_mutex_t mu;
    char expected_auth[512];       /* "Basic <base64>" or "" */
    char base_path[128];           /* "" or "/apis/ccompat/v7" */
    char *schemas[RS_MAX_SCHEMAS]; /* schema text of id i+1 */
    bool avro[RS_MAX_SCHEMAS];     /* registered with schemaType AVRO (or none) */
    size_t nschemas;
    size_t gets_of[RS_MAX_SCHEMAS + 2];
    rs_stats stats;
};

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

static void rs_respond(int fd, int status, const char *body) {
    const char *reason = status == 200   ? "OK"
                         : status == 401 ? "Unauthorized"
                         : status == 404 ? "Not Found"
                                         : "Bad Request";
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_printf(&b,
                  "HTTP/1.1 %d %s\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
                  "Content-Length: %zu\r\n\r\n%s",
                  status, reason, strlen(body), body);
    if (b.data) hs_send_all(fd, b.data, b.len);
    rb_buf_free(&b);
}

static void rs_serve(void *ctx, int fd, const char *head, const char *body, size_t body_len) {
    rs_server *s = ctx;
    char method[16] = "", path[256] = "", auth[256] = "";
    sscanf(head, "%15s %255s", method, path);
    /* The API lives under base_path; anything else is an unknown path. */
    size_t base_len = strlen(s->base_path);
    int inside = strncmp(path, s->base_path, base_len) == 0 &&
                 (path[base_len] == '/' || path[base_len] == '\0');
    const char *api = inside ? path + base_len : "";
    hs_header(head, "Authorization", auth, sizeof auth);
    rb_buf out;
    rb_buf_init(&out);
    int status = 200;
    pthread_mutex_lock(&s->mu);
    snprintf(s->stats.last_auth, sizeof s->stats.last_auth, "%s", auth);
    unsigned id = 0;
    int is_get = strcmp(method, "GET") == 0 && sscanf(api, "/schemas/ids/%u", &id) == 1;
    int is_post = strcmp(method, "POST") == 0 && strncmp(api, "/subjects/", 10) == 0 &&
                  strstr(api, "/versions") != NULL;
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
        /* Confluent's registry leaves schemaType out for Avro, its default. */
        rb_buf_puts(&out, s->avro[id - 1] ? "}" : ",\"schemaType\":\"JSON\"}");
    } else if (is_get) {
        status = 404;
        rb_buf_puts(&out, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
    } else if (is_post) {
        rb_json_doc *doc = NULL;
        const char *text = NULL, *type = NULL;
        if (rb_json_parse(body, body_len, NULL, &doc, NULL) == 0) {
            text = rb_json_string(rb_json_get(rb_json_doc_root(doc), "schema"));
            type = rb_json_string(rb_json_get(rb_json_doc_root(doc), "schemaType"));
        }
        bool avro = !type || strcmp(type, "AVRO") == 0;
        if (type && !avro && strcmp(type, "JSON") != 0) text = NULL; /* PROTOBUF: refused */
        size_t i = 0;
        while (text && i < s->nschemas && (strcmp(s->schemas[i], text) != 0 || s->avro[i] != avro))
            i++;
        if (text && i == s->nschemas && s->nschemas < RS_MAX_SCHEMAS) {
            s->schemas[i] = strdup(text);
            s->avro[i] = avro;
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

rs_server *rs_server_start(const char *user_info) { return rs_server_start_at(user_info, ""); }

rs_server *rs_server_start_at(const char *user_info, const char *base_path) {
    rs_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    snprintf(s->base_path, sizeof s->base_path, "%s", base_path ? base_path : "");
    if (user_info && user_info[0]) {
        char b64[400];
        rs_base64(user_info, b64, sizeof b64);
        snprintf(s->expected_auth, sizeof s->expected_auth, "Basic %s", b64);
    }
    pthread_mutex_init(&s->mu, NULL);
    if (!(s->http = hs_start(0, rs_serve, s))) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

int rs_server_port(const rs_server *s) { return hs_port(s->http); }

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
    hs_stop(s->http);
    for (size_t i = 0; i < s->nschemas; i++) free(s->schemas[i]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
