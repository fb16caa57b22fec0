/* port.c -- the runner's view of the sink, and the MongoDB sink behind it;
 * see port.h. */
#include "sink/port.h"

static int mongo_write(void *impl, rb_sink_item *items, size_t n, rb_error *err) {
    return rb_sink_write(impl, items, n, NULL, err);
}

static int mongo_read_stored(void *impl, const char *const *ids, size_t n, unsigned what,
                             rb_sink_stored_fn fn, void *ctx, rb_error *err) {
    return rb_sink_read_stored(impl, ids, n, what, fn, ctx, err);
}

static int mongo_ping(void *impl, rb_error *err) { return rb_sink_ping(impl, err); }
static bool mongo_needs_versions(const void *impl) { return rb_sink_needs_versions(impl); }
static bool mongo_read_pays(const void *impl) { return rb_sink_read_pays(impl); }
static const char *mongo_describe(const void *impl) { return rb_sink_describe(impl); }
static void mongo_destroy(void *impl) { rb_sink_destroy(impl); }
static int mongo_remove_chunks(void *impl, const rb_sink_chunk_clean *c, size_t n, size_t *removed,
                               rb_error *err) {
    return rb_sink_remove_chunks(impl, c, n, removed, err);
}

static const rb_sink_ops mongo_ops = {
    .name = "mongodb",
    .write = mongo_write,
    .read_stored = mongo_read_stored,
    .ping = mongo_ping,
    .needs_versions = mongo_needs_versions,
    .read_pays = mongo_read_pays,
    .describe = mongo_describe,
    .destroy = mongo_destroy,
    .remove_chunks = mongo_remove_chunks,
};

rb_sink_port rb_sink_port_mongo(rb_sink *s) { return (rb_sink_port){s ? &mongo_ops : NULL, s}; }

int rb_sink_port_write(rb_sink_port p, rb_sink_item *items, size_t n, rb_error *err) {
    return p.ops->write(p.impl, items, n, err);
}

int rb_sink_port_read_stored(rb_sink_port p, const char *const *ids, size_t n, unsigned what,
                             rb_sink_stored_fn fn, void *ctx, rb_error *err) {
    return p.ops->read_stored(p.impl, ids, n, what, fn, ctx, err);
}

int rb_sink_port_ping(rb_sink_port p, rb_error *err) { return p.ops->ping(p.impl, err); }
bool rb_sink_port_needs_versions(rb_sink_port p) { return p.ops->needs_versions(p.impl); }
bool rb_sink_port_read_pays(rb_sink_port p) { return p.ops->read_pays(p.impl); }
const char *rb_sink_port_describe(rb_sink_port p) { return p.ops->describe(p.impl); }

int rb_sink_port_remove_chunks(rb_sink_port p, const rb_sink_chunk_clean *c, size_t n,
                               size_t *removed, rb_error *err) {
    *removed = 0;
    if (!p.ops->remove_chunks)
        return rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_SINK,
                            "sink '%s' cannot remove chunks (no remove_chunks)", p.ops->name);
    return p.ops->remove_chunks(p.impl, c, n, removed, err);
}

void rb_sink_port_destroy(rb_sink_port p) {
    if (p.ops && p.ops->destroy) p.ops->destroy(p.impl);
}
