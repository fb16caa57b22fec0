/*
 * freshness.c -- event time to visibility, per stored document: reads
 * event_time and ingested_at of every document in a collection (the sink
 * writes ingested_at in the same bulk that makes the document visible) and
 * prints the count, p50, p99 and max of the difference in milliseconds.
 *
 *   freshness MONGO_URI DATABASE COLLECTION [--drop]
 * With --drop the database is dropped afterwards (benchmarks clean up).
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "--drop") == 0)) {
        fprintf(stderr, "usage: freshness MONGO_URI DATABASE COLLECTION [--drop]\n");
        return 2;
    }
    mongoc_init();
    mongoc_client_t *c = mongoc_client_new(argv[1]);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, argv[2], argv[3]);
    bson_t filter = BSON_INITIALIZER;
    /* Only the two dates: whole documents with their vectors can make a
     * reply batch larger than a client accepts (mongo-java-server does not
     * cap batches at 16 MiB). */
    bson_t *opts = BCON_NEW("projection", "{", "event_time", BCON_INT32(1), "ingested_at",
                            BCON_INT32(1), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    bson_destroy(opts);
    const bson_t *doc;
    int64_t *lat = NULL;
    size_t n = 0, cap = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        int64_t ev = -1, in = -1;
        if (bson_iter_init_find(&it, doc, "event_time") && BSON_ITER_HOLDS_DATE_TIME(&it))
            ev = bson_iter_date_time(&it);
        if (bson_iter_init_find(&it, doc, "ingested_at") && BSON_ITER_HOLDS_DATE_TIME(&it))
            in = bson_iter_date_time(&it);
        if (ev < 0 || in < 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            lat = realloc(lat, cap * sizeof *lat);
        }
        lat[n++] = in - ev;
    }
    bson_error_t e;
    if (mongoc_cursor_error(cur, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "no documents with event_time and ingested_at\n");
        return 1;
    }
    qsort(lat, n, sizeof *lat, by_value);
    printf("docs=%zu p50_ms=%lld p99_ms=%lld max_ms=%lld\n", n, (long long)lat[n / 2],
           (long long)lat[(n * 99) / 100], (long long)lat[n - 1]);
    free(lat);
    mongoc_cursor_destroy(cur);
    if (argc == 5) {
        mongoc_database_t *db = mongoc_client_get_database(c, argv[2]);
        mongoc_database_drop(db, NULL);
        mongoc_database_destroy(db);
    }
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(c);
    mongoc_cleanup();
    return 0;
}
