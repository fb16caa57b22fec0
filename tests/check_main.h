/*
 * check_main.h -- what a Check suite file provides to the one main() of
 * every suite (tests/check_main.c): its suite, built by rb_check_suite().
 *
 * The shared main runs it the way every suite runs: CK_NORMAL output,
 * Check's own environment variables honoured (CK_RUN_SUITE, CK_RUN_CASE,
 * CK_FORK, CK_DEFAULT_TIMEOUT, CK_TIMEOUT_MULTIPLIER, CK_TAP_LOG_FILE_NAME,
 * CK_LOG_FILE_NAME, CK_XML_LOG_FILE_NAME), exit status 0 only when no
 * test failed.  Timeouts stay with the suite (tcase_set_timeout).
 */
#ifndef RB_TEST_CHECK_MAIN_H
#define RB_TEST_CHECK_MAIN_H

#include <check.h>

/* The suite of this test program; called once by main(). */
Suite *rb_check_suite(void);

#endif
