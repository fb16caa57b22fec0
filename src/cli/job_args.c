#include "cli/job_args.h"

#include <stdio.h>

int rb_cli_load_job(const char *path, char *const *sets, size_t nsets, rb_job_config *cfg) {
    rb_error err;
    if (rb_job_config_init(cfg, &err) != 0) {
        fprintf(stderr, "ragbatch: %s\n", err.msg);
        return 1;
    }
    if (rb_job_config_load(cfg, path, &err) != 0) goto fail;
    for (size_t i = 0; i < nsets; i++)
        if (rb_job_config_set(cfg, sets[i], "--set", &err) != 0) goto fail;
    if (rb_job_config_check(cfg, &err) != 0) goto fail;
    return 0;
fail:
    fprintf(stderr, "ragbatch: %s\n", err.msg);
    return 2;
}
