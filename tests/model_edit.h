/*
 * model_edit.h -- what the model suites (check_embed, check_models) do to a
 * scratch copy of a model directory: change one file in place, and expect
 * the local embedder to refuse the result.  Failures fail the calling
 * Check test.
 */
#ifndef RB_TEST_MODEL_EDIT_H
#define RB_TEST_MODEL_EDIT_H

/* Rewrites dir/file with the first `from` replaced by `to`; fails the test
 * when `from` does not occur. */
void model_edit(const char *dir, const char *file, const char *from, const char *to);

/* Loading `dir` (one thread) must fail with RB_ERR_MODEL and a message
 * holding `needle1` and, unless NULL, `needle2`. */
void model_expect_load_error(const char *dir, const char *needle1, const char *needle2);

/* model_edit(dir, file, from, to), then model_expect_load_error(dir,
 * needle1, needle2), then the edit undone (to back to from). */
void model_refuses_edit(const char *dir, const char *file, const char *from, const char *to,
                        const char *needle1, const char *needle2);

/* Loading `dir` (one thread) must succeed. */
void model_expect_loads(const char *dir);

#endif
