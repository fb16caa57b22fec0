#include "fixture.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char bench_event[] =
    "{\"name\":\"Harbor & Pine Cascade Hiking Boots\",\"category\":\"footwear\","
    "\"brand\":\"Harbor & Pine\",\"price\":82.99,\"currency\":\"EUR\","
    "\"tags\":[\"everyday\",\"running\"],\"in_stock\":true,"
    "\"attributes\":{\"color\":\"sky blue\",\"material\":\"waterproof nubuck\","
    "\"size\":\"EU 46\",\"origin\":\"Canada\"}}";
const char bench_text[] =
    "Harbor & Pine Cascade Hiking Boots. Brand: Harbor & Pine. Category: footwear. Everyday "
    "hiking boots in sky blue waterproof nubuck, with a padded collar that stops heel rub. "
    "Made in Canada and backed by a 5-year Harbor & Pine warranty. Tags: everyday, running.";
const char bench_text_hash[] = "3f5a1c0e9b7d2a4c6e8f0b1d3a5c7e9f1b3d5f7a9c1e3a5b7d9f1a3c5e7a9b1d";

static const char *const meta_fields[BENCH_N_META] = {"name",     "category",  "brand",
                                                      "price",    "currency",  "tags",
                                                      "in_stock", "attributes"};

void bench_fixture_meta(rb_json_doc **doc, rb_sink_meta meta[BENCH_N_META]) {
    rb_error err;
    if (rb_json_parse(bench_event, strlen(bench_event), NULL, doc, &err) != 0) {
        fprintf(stderr, "bench fixture: event: %s\n", err.msg);
        exit(1);
    }
    for (int i = 0; i < BENCH_N_META; i++)
        meta[i] = (rb_sink_meta){meta_fields[i],
                                 rb_json_get_path(rb_json_doc_root(*doc), meta_fields[i])};
}

int bench_drop_databases(const char *uri, const char *prefix) {
    mongoc_client_t *c = mongoc_client_new(uri);
    bson_error_t e;
    char **names = c ? mongoc_client_get_database_names_with_opts(c, NULL, &e) : NULL;
    if (!names) {
        fprintf(stderr, "bench fixture: listDatabases: %s\n", c ? e.message : "bad URI");
        exit(1);
    }
    for (char **n = names; *n; n++) {
        if (strncmp(*n, prefix, strlen(prefix)) != 0) continue;
        mongoc_database_t *db = mongoc_client_get_database(c, *n);
        printf("dropping %s: %s\n", *n, mongoc_database_drop(db, &e) ? "ok" : e.message);
        mongoc_database_destroy(db);
    }
    bson_strfreev(names);
    mongoc_client_destroy(c);
    return 0;
}
