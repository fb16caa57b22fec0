/* stage_fixture.c -- see stage_fixture.h. */
#include "stage_fixture.h"

#include "decode/decode.h"
#include "registry/registry.h"
#include "transform/template.h"
#include "validate/schema.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

void stage_fixture_open(stage_fixture *f, bool tolerate, bool with_schema) {
    memset(f, 0, sizeof *f);
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&f->cfg, &err), 0);
    f->opts.stop = &f->stop;
    rb_runner *r = &f->r;
    r->cfg = &f->cfg;
    r->opts = &f->opts;
    r->tolerate = tolerate;
    rb_log_init(&r->log);
    f->log_out = open_memstream(&f->log_mem, &f->log_size);
    ck_assert_ptr_nonnull(f->log_out);
    r->log.out = f->log_out;
    if (with_schema)
        ck_assert_msg(rb_schema_load(RB_SOURCE_DIR "/conf/product_schema.json", &r->schema,
                                     &err) == 0,
                      "%s", err.msg);
    ck_assert_int_eq(rb_template_compile("{name}", &r->tpl, &err), 0);
    r->spec = (rb_document_spec){
        .tpl = r->tpl,
        .id_field = f->cfg.id_field,
        .version_field = f->cfg.version_field,
        .time_field = f->cfg.time_field,
        .op_field = f->cfg.op_field,
        .delete_values = (const char *const *)f->cfg.delete_values.items,
        .delete_value_count = f->cfg.delete_values.count,
    };
    ck_assert_ptr_nonnull(f->b = rb_batch_new());
    rb_batch_reset(f->b, 1);
}

const char *stage_fixture_log(stage_fixture *f) {
    fflush(f->log_out);
    return f->log_mem ? f->log_mem : "";
}

void stage_fixture_close(stage_fixture *f) {
    rb_batch_destroy(f->b);
    rb_template_destroy(f->r.tpl);
    rb_schema_destroy(f->r.schema);
    rb_registry_destroy(f->r.registry);
    rb_decode_spec_free(&f->r.decode);
    fclose(f->log_out);
    free(f->log_mem);
    rb_job_config_free(&f->cfg);
}
