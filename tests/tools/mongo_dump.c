/*
 * mongo_dump.c -- prints a collection, one document a line, for comparing
 * what two runs stored (scripts/container-test.sh: the host build and the
 * container image, same topic, two collections).
 *
 *   tests/tools/mongo_dump URI DATABASE COLLECTION [--drop FIELD]... [--drop-collection]
 *
 * Documents come sorted by _id, each as canonical Extended JSON (doubles
 * and binary vectors exact), with the --drop fields removed: the ones that
 * differ between any two runs (ingested_at, deleted_at: the wall clock).
 * --drop-collection drops the collection once it is printed.
 * Exit status 0, or 1 with the server's error on stderr.  A test tool, not
 * part of ragbatch.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <string.h>

#define MAX_DROP 16

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr,
                "usage: %s URI DATABASE COLLECTION [--drop FIELD]... [--drop-collection]\n",
                argv[0]);
        return 2;
    }
    const char *drop[MAX_DROP];
    size_t ndrop = 0;
    bool drop_collection = false;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--drop-collection") == 0) {
            drop_collection = true;
            continue;
        }
        if (strcmp(argv[i], "--drop") != 0 || i + 1 >= argc || ndrop == MAX_DROP) {
            fprintf(stderr, "%s: expected --drop FIELD, at most %d, not '%s'\n", argv[0], MAX_DROP,
                    argv[i]);
            return 2;
        }
        drop[ndrop++] = argv[++i];
    }
    mongoc_init();
    /* The driver's own warnings (a test server without endSessions, say)
     * are not this tool's output. */
    mongoc_log_set_handler(NULL, NULL);
    bson_error_t err;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &err);
    if (!uri) {
        fprintf(stderr, "%s: bad URI: %s\n", argv[0], err.message);
        return 1;
    }
    mongoc_client_t *client = mongoc_client_new_from_uri(uri);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, argv[2], argv[3]);
    bson_t filter = BSON_INITIALIZER;
    bson_t *opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    const bson_t *doc;
    int status = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_t out = BSON_INITIALIZER;
        bson_iter_t it;
        bson_iter_init(&it, doc);
        while (bson_iter_next(&it)) {
            bool skip = false;
            for (size_t d = 0; d < ndrop; d++)
                if (strcmp(bson_iter_key(&it), drop[d]) == 0) skip = true;
            if (!skip) bson_append_iter(&out, bson_iter_key(&it), -1, &it);
        }
        char *json = bson_as_canonical_extended_json(&out, NULL);
        puts(json);
        bson_free(json);
        bson_destroy(&out);
    }
    if (mongoc_cursor_error(cur, &err)) {
        fprintf(stderr, "%s: %s.%s: %s\n", argv[0], argv[2], argv[3], err.message);
        status = 1;
    }
    mongoc_cursor_destroy(cur);
    if (status == 0 && drop_collection && !mongoc_collection_drop(coll, &err)) {
        fprintf(stderr, "%s: dropping %s.%s: %s\n", argv[0], argv[2], argv[3], err.message);
        status = 1;
    }
    bson_destroy(opts);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    return status;
}
