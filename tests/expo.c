/* expo.c -- the exposition parser and HTTP GET of expo.h. */
#include "expo.h"

#include "common/buf.h"

#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int is_name_char(char c, int first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static const char *parse_name(const char *p, char *out, size_t cap) {
    size_t n = 0;
    if (!is_name_char(*p, 1)) return NULL;
    while (is_name_char(*p, n == 0) && n + 1 < cap) out[n++] = *p++;
    out[n] = '\0';
    return p;
}

double expo_value(const char *p) {
    if (strcmp(p, "+Inf") == 0) return INFINITY;
    if (strcmp(p, "-Inf") == 0) return -INFINITY;
    if (strcmp(p, "NaN") == 0) return NAN;
    char *end;
    double v = strtod(p, &end);
    ck_assert_msg(end != p && *end == '\0', "bad value '%s'", p);
    return v;
}

/* Every line must be a HELP, a TYPE or a well-formed sample; a sample's
 * family must have been typed before it. */
void expo_parse(const char *text, expo *e) {
    memset(e, 0, sizeof *e);
    char *copy = strdup(text);
    ck_assert_ptr_nonnull(copy);
    ck_assert_msg(copy[0] == '\0' || copy[strlen(copy) - 1] == '\n', "no final newline");
    char *next = NULL;
    for (char *line = copy; *line; line = next) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        next = nl + 1;
        ck_assert_msg(*line != '\0', "empty line");
        char name[128];
        if (strncmp(line, "# HELP ", 7) == 0) {
            ck_assert_ptr_nonnull(parse_name(line + 7, name, sizeof name));
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            const char *p = parse_name(line + 7, name, sizeof name);
            ck_assert_ptr_nonnull(p);
            ck_assert(*p == ' ');
            p++;
            ck_assert_msg(strcmp(p, "counter") == 0 || strcmp(p, "gauge") == 0 ||
                              strcmp(p, "histogram") == 0,
                          "type '%s'", p);
            ck_assert_int_lt(e->ntypes, 32);
            snprintf(e->types[e->ntypes][0], 128, "%s", name);
            snprintf(e->types[e->ntypes][1], 128, "%s", p);
            e->ntypes++;
            continue;
        }
        ck_assert_msg(line[0] != '#', "stray comment '%s'", line);
        ck_assert_int_lt(e->n, EXPO_MAX_SAMPLES);
        expo_sample *s = &e->s[e->n++];
        const char *p = parse_name(line, s->name, sizeof s->name);
        ck_assert_msg(p != NULL, "bad sample line '%s'", line);
        if (*p == '{') {
            p++;
            while (*p != '}') {
                ck_assert_int_lt(s->nlabels, 6);
                p = parse_name(p, s->lname[s->nlabels], 32);
                ck_assert_msg(p && p[0] == '=' && p[1] == '"', "bad label in '%s'", line);
                p += 2;
                size_t n = 0;
                char *v = s->lvalue[s->nlabels];
                while (*p != '"') {
                    ck_assert_msg(*p != '\0', "unterminated value in '%s'", line);
                    if (*p == '\\') {
                        p++;
                        ck_assert(*p == '\\' || *p == '"' || *p == 'n');
                        v[n++] = *p == 'n' ? '\n' : *p;
                    } else {
                        v[n++] = *p;
                    }
                    p++;
                    ck_assert_uint_lt(n, 127);
                }
                v[n] = '\0';
                p++;
                s->nlabels++;
                if (*p == ',')
                    p++;
                else
                    ck_assert_msg(*p == '}', "bad label list in '%s'", line);
            }
            p++;
        }
        ck_assert_msg(*p == ' ', "no value in '%s'", line);
        s->value = expo_value(p + 1);
        /* The family (name minus a histogram suffix) was typed before. */
        int typed = 0;
        for (int i = 0; i < e->ntypes; i++) {
            size_t l = strlen(e->types[i][0]);
            if (strncmp(s->name, e->types[i][0], l) == 0 &&
                (s->name[l] == '\0' || strcmp(s->name + l, "_bucket") == 0 ||
                 strcmp(s->name + l, "_sum") == 0 || strcmp(s->name + l, "_count") == 0))
                typed = 1;
        }
        ck_assert_msg(typed, "sample '%s' before its TYPE line", s->name);
    }
    free(copy);
}

const char *expo_label(const expo_sample *s, const char *name) {
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->lname[i], name) == 0) return s->lvalue[i];
    return NULL;
}

/* The value of the sample `name` whose labels include l1=v1 (and l2=v2). */
int expo_find(const expo *e, const char *name, const char *l1, const char *v1, const char *l2,
              const char *v2, double *out) {
    for (int i = 0; i < e->n; i++) {
        const expo_sample *s = &e->s[i];
        if (strcmp(s->name, name) != 0) continue;
        if (l1 && (!expo_label(s, l1) || strcmp(expo_label(s, l1), v1) != 0)) continue;
        if (l2 && (!expo_label(s, l2) || strcmp(expo_label(s, l2), v2) != 0)) continue;
        *out = s->value;
        return 1;
    }
    return 0;
}

int expo_http_get(int port, const char *path, char **body) {
    *body = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (n < 0 || (size_t)n >= sizeof req || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return -1;
    }
    rb_buf b;
    rb_buf_init(&b);
    char tmp[4096];
    ssize_t got;
    while ((got = recv(fd, tmp, sizeof tmp, 0)) > 0)
        if (rb_buf_append(&b, tmp, (size_t)got) != 0) break;
    close(fd);
    int status = -1;
    const char *sep = b.data ? strstr(b.data, "\r\n\r\n") : NULL;
    if (sep && sscanf(b.data, "HTTP/1.1 %d", &status) == 1) *body = strdup(sep + 4);
    if (!*body) status = -1;
    rb_buf_free(&b);
    return status;
}
