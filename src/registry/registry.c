/* registry.c -- schema fetch over libcurl and the by-id cache; see registry.h. */
#include "registry/registry.h"

#include "common/buf.h"
#include "common/redact.h"
#include "json/json.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A registry schema is a few KiB; anything much larger is not one. */
#define RB_REGISTRY_MAX_RESPONSE (4u << 20)

typedef struct rb_registry_entry {
    uint32_t id;
    rb_schema *schema;    /* a JSON Schema id, or NULL */
    rb_avro_schema *avro; /* an Avro id, or NULL */
} rb_registry_entry;

struct rb_registry {
    char *url;     /* without trailing '/' */
    char *display; /* url with its credentials replaced (rb_redact), for messages */
    char *user_info;
    long timeout_ms;
    pthread_mutex_t mu; /* guards everything below */
    rb_registry_entry *entries;
    size_t count, cap;
    uint64_t fetches;
};

static char *registry_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

int rb_registry_new(const rb_registry_options *opt, rb_registry **out, rb_error *err) {
    *out = NULL;
    if (!opt || !opt->url || !opt->url[0])
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "schema.registry.url is empty");
    /* libcurl >= 7.84 makes this thread-safe and reference counted; it is
     * balanced by curl_global_cleanup in destroy. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return rb_error_set(err, RB_ERR_HTTP, RB_STAGE_CONFIG, "libcurl failed to initialise");
    rb_registry *r = calloc(1, sizeof *r);
    if (!r) {
        curl_global_cleanup();
        return rb_error_nomem(err, RB_STAGE_CONFIG, "schema registry");
    }
    r->url = registry_strdup(opt->url);
    /* Messages name the registry by its URL with any credential in it
     * (user:password@, an API key parameter) replaced. */
    r->display = rb_redact_dup(opt->url);
    r->user_info = registry_strdup(opt->user_info ? opt->user_info : "");
    r->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 10000;
    if (!r->url || !r->display || !r->user_info || pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r->url);
        free(r->display);
        free(r->user_info);
        free(r);
        curl_global_cleanup();
        return rb_error_nomem(err, RB_STAGE_CONFIG, "schema registry");
    }
    size_t n = strlen(r->url);
    while (n > 0 && r->url[n - 1] == '/') r->url[--n] = '\0';
    n = strlen(r->display);
    while (n > 0 && r->display[n - 1] == '/') r->display[--n] = '\0';
    *out = r;
    return 0;
}

void rb_registry_destroy(rb_registry *r) {
    if (!r) return;
    for (size_t i = 0; i < r->count; i++) {
        rb_schema_destroy(r->entries[i].schema);
        rb_avro_schema_destroy(r->entries[i].avro);
    }
    free(r->entries);
    pthread_mutex_destroy(&r->mu);
    /* Wipe the password before the memory goes back to the allocator. */
    size_t n = strlen(r->user_info);
    volatile char *p = r->user_info;
    for (size_t i = 0; i < n; i++) p[i] = '\0';
    free(r->user_info);
    free(r->url);
    free(r->display);
    free(r);
    curl_global_cleanup();
}

bool rb_registry_is_framed(const char *value, size_t len) {
    return len > 0 && (unsigned char)value[0] == RB_REGISTRY_MAGIC;
}

static size_t registry_write(char *data, size_t size, size_t nmemb, void *userp) {
    rb_buf *b = userp;
    size_t n = size * nmemb;
    if (b->len + n > RB_REGISTRY_MAX_RESPONSE) return 0; /* aborts the transfer */
    return rb_buf_append(b, data, n) == 0 ? n : 0;
}

/* GET {url}/schemas/ids/{id} into `body`; *status = HTTP status. */
static int registry_get(rb_registry *r, uint32_t id, rb_buf *body, long *status, rb_error *err) {
    rb_buf url;
    rb_buf_init(&url);
    if (rb_buf_printf(&url, "%s/schemas/ids/%u", r->url, (unsigned)id) != 0)
        return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "registry URL");
    CURL *c = curl_easy_init();
    if (!c) {
        rb_buf_free(&url);
        return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "libcurl handle");
    }
    struct curl_slist *headers =
        curl_slist_append(NULL,
                          "Accept: application/vnd.schemaregistry.v1+json, application/json");
    char curl_msg[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url.data);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, registry_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* called from worker threads */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (r->user_info[0]) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, r->user_info);
    }
    CURLcode rc = curl_easy_perform(c);
    int ret = 0;
    if (rc != CURLE_OK) {
        ret = rb_error_set_retriable(err, RB_ERR_HTTP, RB_STAGE_DESERIALIZE,
                                     "schema registry %s: fetching schema id %u failed: %s",
                                     r->display, (unsigned)id,
                                     curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    rb_buf_free(&url);
    return ret;
}

/* Turns a 200 answer into a compiled schema: JSON Schema into *out, Avro
 * into *avro. */
static int registry_compile(uint32_t id, const rb_buf *body, rb_schema **out,
                            rb_avro_schema **avro, rb_error *err) {
    rb_json_doc *doc = NULL, *sdoc = NULL;
    rb_error perr;
    if (rb_json_parse(body->data ? body->data : "", body->len, NULL, &doc, &perr) != 0)
        return rb_error_set_retriable(err, RB_ERR_HTTP, RB_STAGE_DESERIALIZE,
                                      "schema registry answer for id %u is not JSON: %s",
                                      (unsigned)id, perr.msg);
    const rb_json *root = rb_json_doc_root(doc);
    const char *text = rb_json_string(rb_json_get(root, "schema"));
    const char *type = rb_json_string(rb_json_get(root, "schemaType"));
    int ret = 0;
    char origin[64];
    snprintf(origin, sizeof origin, "schema registry id %u", (unsigned)id);
    if (!text) {
        ret = rb_error_set_retriable(err, RB_ERR_HTTP, RB_STAGE_DESERIALIZE,
                                     "schema registry answer for id %u has no \"schema\" string",
                                     (unsigned)id);
    } else if (!type || strcmp(type, "AVRO") == 0) {
        /* Confluent omits schemaType for Avro, its default type. */
        ret = rb_avro_schema_parse(text, strlen(text), origin, avro, err);
    } else if (strcmp(type, "JSON") != 0) {
        ret = rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE,
                           "schema registry id %u is a %s schema; ragbatch reads JSON Schema and "
                           "Avro",
                           (unsigned)id, type);
    } else if (rb_json_parse(text, strlen(text), NULL, &sdoc, &perr) != 0) {
        ret = rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE, "%s is not JSON: %s", origin,
                           perr.msg);
    } else if (rb_schema_compile(rb_json_doc_root(sdoc), origin, out, &perr) != 0) {
        /* The compiler's message already names the origin. */
        ret = rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE, "%s", perr.msg);
    }
    rb_json_doc_destroy(sdoc);
    rb_json_doc_destroy(doc);
    return ret;
}

/* Whether a 404 answer is the registry's own "schema not found" (Confluent's
 * error_code 40403, which Apicurio's compatible API answers too), rather
 * than a path that serves no registry API. */
static bool registry_schema_not_found(const rb_buf *body) {
    rb_json_doc *doc = NULL;
    if (!body->data || rb_json_parse(body->data, body->len, NULL, &doc, NULL) != 0) return false;
    const rb_json *code = rb_json_get(rb_json_doc_root(doc), "error_code");
    bool found = code && code->type == RB_JSON_NUMBER && code->is_integer &&
                 code->integer == 40403;
    rb_json_doc_destroy(doc);
    return found;
}

static const rb_registry_entry *registry_lookup(const rb_registry *r, uint32_t id) {
    for (size_t i = 0; i < r->count; i++)
        if (r->entries[i].id == id) return &r->entries[i];
    return NULL;
}

/* Called with r->mu held. */
static int registry_fetch_locked(rb_registry *r, uint32_t id, const rb_registry_entry **entry,
                                 rb_error *err) {
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        rb_registry_entry *e = realloc(r->entries, cap * sizeof *e);
        if (!e) return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "schema registry cache");
        r->entries = e;
        r->cap = cap;
    }
    rb_buf body;
    rb_buf_init(&body);
    long status = 0;
    r->fetches++;
    int ret = registry_get(r, id, &body, &status, err);
    rb_schema *compiled = NULL;
    rb_avro_schema *avro = NULL;
    if (ret == 0 && status == 404 && registry_schema_not_found(&body)) {
        ret = rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE,
                           "schema registry %s has no schema id %u (HTTP 404)", r->display,
                           (unsigned)id);
    } else if (ret == 0 && status != 200) {
        /* 401/403 and a 404 that is not "schema not found" too: fixing the
         * credentials or the URL needs no change to the record. */
        const char *hint = "";
        if (status == 401 || status == 403)
            hint = " (check schema.registry.basic.auth.user.info)";
        else if (status == 404)
            hint = " without the registry's \"schema not found\" error 40403: check that "
                   "schema.registry.url is the base of a Confluent-compatible API (Apicurio "
                   "Registry serves it under /apis/ccompat/v7)";
        ret = rb_error_set_retriable(err, RB_ERR_HTTP, RB_STAGE_DESERIALIZE,
                                     "schema registry %s answered HTTP %ld for schema id %u%s",
                                     r->display, status, (unsigned)id, hint);
    } else if (ret == 0) {
        ret = registry_compile(id, &body, &compiled, &avro, err);
    }
    rb_buf_free(&body);
    if (ret != 0) return ret;
    r->entries[r->count].id = id;
    r->entries[r->count].schema = compiled;
    r->entries[r->count].avro = avro;
    *entry = &r->entries[r->count];
    r->count++;
    return 0;
}

/* The entry of `id`, fetched when missing; *json and *avro are what it
 * holds (entries move when the cache grows, the schemas do not). */
static int registry_get_entry(rb_registry *r, uint32_t id, const rb_schema **json,
                              const rb_avro_schema **avro, rb_error *err) {
    pthread_mutex_lock(&r->mu);
    const rb_registry_entry *e = registry_lookup(r, id);
    int ret = 0;
    /* Fetching under the mutex gives compile-once semantics per id. */
    if (!e) ret = registry_fetch_locked(r, id, &e, err);
    if (ret == 0) {
        *json = e->schema;
        *avro = e->avro;
    }
    pthread_mutex_unlock(&r->mu);
    return ret;
}

int rb_registry_schema(rb_registry *r, uint32_t id, const rb_schema **schema, rb_error *err) {
    const rb_schema *json = NULL;
    const rb_avro_schema *avro = NULL;
    if (registry_get_entry(r, id, &json, &avro, err) != 0) return -1;
    if (!json)
        return rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE,
                            "schema registry id %u is an AVRO schema, not JSON Schema",
                            (unsigned)id);
    *schema = json;
    return 0;
}

int rb_registry_read_frame(rb_registry *r, const char *value, size_t len, rb_registry_frame *out,
                           rb_error *err) {
    memset(out, 0, sizeof *out);
    out->payload = value;
    out->payload_len = len;
    if (!rb_registry_is_framed(value, len)) return 0;
    out->framed = true;
    if (len < RB_REGISTRY_HEADER_LEN)
        return rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE,
                            "value of %zu bytes starts with the schema registry magic byte but "
                            "is shorter than its 5-byte header",
                            len);
    const unsigned char *h = (const unsigned char *)value;
    out->id = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
    if (!r)
        return rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE,
                            "value is framed with schema registry id %u but the job sets no "
                            "schema.registry.url",
                            (unsigned)out->id);
    if (registry_get_entry(r, out->id, &out->json, &out->avro, err) != 0) return -1;
    out->payload = value + RB_REGISTRY_HEADER_LEN;
    out->payload_len = len - RB_REGISTRY_HEADER_LEN;
    return 0;
}

int rb_registry_unwrap(rb_registry *r, const char *value, size_t len, const char **payload,
                       size_t *payload_len, const rb_schema **schema, rb_error *err) {
    rb_registry_frame f;
    if (rb_registry_read_frame(r, value, len, &f, err) != 0) return -1;
    if (f.framed && !f.json)
        return rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE,
                            "schema registry id %u is an AVRO schema, not JSON Schema",
                            (unsigned)f.id);
    *payload = f.payload;
    *payload_len = f.payload_len;
    *schema = f.json;
    return 0;
}

uint64_t rb_registry_fetch_count(rb_registry *r) {
    pthread_mutex_lock(&r->mu);
    uint64_t n = r->fetches;
    pthread_mutex_unlock(&r->mu);
    return n;
}
