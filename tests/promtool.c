/* promtool.c -- `promtool check metrics` from a test; see promtool.h. */
#include "promtool.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void promtool_check(const char *exposition) {
    ck_assert_msg(system("command -v promtool >/dev/null 2>&1") == 0,
                  "promtool is missing: install Debian's prometheus package "
                  "(scripts/install-deps.sh)");
    char in[] = "/tmp/rb_promtool_in_XXXXXX", out[] = "/tmp/rb_promtool_out_XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    ck_assert(fi >= 0 && fo >= 0);
    size_t len = strlen(exposition);
    ck_assert(write(fi, exposition, len) == (ssize_t)len);
    close(fi);
    close(fo);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s > %s 2>&1", in, out);
    int status = system(cmd);
    char said[4096] = "";
    FILE *f = fopen(out, "r");
    if (f) {
        size_t n = fread(said, 1, sizeof said - 1, f);
        said[n] = '\0';
        fclose(f);
    }
    unlink(in);
    unlink(out);
    ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !said[0],
                  "promtool check metrics refused the exposition (status %d):\n%s\n--- the "
                  "exposition:\n%s",
                  status, said, exposition);
}
