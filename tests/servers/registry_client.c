#include "registry_client.h"

#include "common/buf.h"
#include "json/json.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t sink_body(char *d, size_t size, size_t n, void *u) {
    return rb_buf_append(u, d, size * n) == 0 ? size * n : 0;
}

unsigned rs_register_schema(int port, const char *user_info, const char *subject,
                            const char *schema) {
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    return rs_register_schema_url(base, user_info, subject, schema);
}

unsigned rs_register_schema_url(const char *base_url, const char *user_info, const char *subject,
                                const char *schema) {
    return rs_register_typed(base_url, user_info, subject, "JSON", schema);
}

/* Registers `schema` under `subject` the way a producer's serializer does;
 * returns the id the registry assigned. */
unsigned rs_register_typed(const char *base_url, const char *user_info, const char *subject,
                           const char *type, const char *schema) {
    rb_buf req, resp, url;
    rb_buf_init(&req);
    rb_buf_init(&resp);
    rb_buf_init(&url);
    rb_buf_printf(&req, "{\"schemaType\":\"%s\",\"schema\":", type);
    rb_buf_json_string(&req, schema, strlen(schema));
    rb_buf_puts(&req, "}");
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/') n--;
    rb_buf_printf(&url, "%.*s/subjects/%s/versions", (int)n, base_url, subject);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
    curl_easy_setopt(c, CURLOPT_URL, url.data);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.data);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    if (user_info) curl_easy_setopt(c, CURLOPT_USERPWD, user_info);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ck_assert_msg(status == 200, "register: HTTP %ld %s", status, resp.data ? resp.data : "");
    rb_json_doc *doc = NULL;
    ck_assert_int_eq(rb_json_parse(resp.data, resp.len, NULL, &doc, NULL), 0);
    const rb_json *id = rb_json_get(rb_json_doc_root(doc), "id");
    ck_assert_ptr_nonnull(id);
    ck_assert(id->is_integer && id->integer > 0);
    unsigned out = (unsigned)id->integer;
    rb_json_doc_destroy(doc);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    rb_buf_free(&req);
    rb_buf_free(&resp);
    rb_buf_free(&url);
    return out;
}

/* Magic byte, big-endian id, payload: what Confluent's serializer writes. */
size_t rs_frame(unsigned id, const char *json, char *out, size_t size) {
    size_t n = strlen(json);
    ck_assert_uint_le(n + 5, size);
    out[0] = 0;
    out[1] = (char)(id >> 24 & 0xff);
    out[2] = (char)(id >> 16 & 0xff);
    out[3] = (char)(id >> 8 & 0xff);
    out[4] = (char)(id & 0xff);
    memcpy(out + 5, json, n);
    return n + 5;
}
