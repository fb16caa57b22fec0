/*
 * check_main.c -- the main() of every Check suite (see check_main.h).
 *
 * The process-wide set-up of the client libraries happens here, once,
 * before the runner forks the test cases: libmongoc (through the sink,
 * which also routes its log) and libcurl both ask for it before any other
 * call and before threads start.  Suites that use neither pay a few
 * microseconds.
 */
#include "check_main.h"

#include "sink/sink.h"

#include <curl/curl.h>
#include <stdlib.h>

int main(void) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return EXIT_FAILURE;
    rb_sink_global_init();
    SRunner *sr = srunner_create(rb_check_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rb_sink_global_cleanup();
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
