# `ragbatch check`'s checks beyond the key table (lint.h), and the schema
# walk that says which fields an event may have.
libragbatch_a_SOURCES += src/lint/lint.c src/lint/lint.h src/lint/connect.c \
	src/lint/schema_fields.c src/lint/schema_fields.h

# `ragbatch check` through the binary, and the schema walk on its own (no servers).
check_PROGRAMS += tests/check_lint
TESTS += tests/check_lint
tests_check_lint_SOURCES = tests/check_lint.c tests/spawn.c tests/spawn.h
tests_check_lint_CFLAGS = $(TEST_CFLAGS)
tests_check_lint_LDADD = $(TEST_LIBS)
EXTRA_tests_check_lint_DEPENDENCIES = ragbatch$(EXEEXT)
