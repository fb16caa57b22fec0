libragbatch_a_SOURCES += \
	src/common/error.c src/common/error.h \
	src/common/buf.c src/common/buf.h \
	src/common/log.c src/common/log.h \
	src/common/clock.c src/common/clock.h \
	src/common/suggest.c src/common/suggest.h \
	src/common/redact.c src/common/redact.h \
	src/common/prng.c src/common/prng.h \
	src/common/backoff.c src/common/backoff.h \
	src/common/rfc3339.c src/common/rfc3339.h \
	src/common/decimal.c src/common/decimal.h \
	src/common/temporal.c src/common/temporal.h \
	src/common/cpus.c src/common/cpus.h \
	src/common/base64.c src/common/base64.h

check_PROGRAMS += tests/check_common
TESTS += tests/check_common
tests_check_common_SOURCES = tests/check_common.c
tests_check_common_CFLAGS = $(TEST_CFLAGS)
tests_check_common_LDADD = $(TEST_LIBS)
