libragbatch_a_SOURCES += \
	src/runner/runner.c src/runner/runner.h \
	src/runner/runner_internal.h src/runner/stages.c \
	src/runner/progress.c src/runner/progress.h \
	src/runner/ports.c src/runner/ports.h
libragbatch_a_SOURCES += src/runner/alert.c src/runner/alert.h
libragbatch_a_SOURCES += src/runner/chunking.c
libragbatch_a_SOURCES += src/runner/trigger.c src/runner/trigger.h
libragbatch_a_SOURCES += src/runner/shutdown.c src/runner/shutdown.h
libragbatch_a_SOURCES += src/runner/embed_opts.c src/runner/embed_opts.h
libragbatch_a_SOURCES += src/runner/decode_opts.c src/runner/decode_opts.h

check_PROGRAMS += tests/check_alert
TESTS += tests/check_alert
tests_check_alert_SOURCES = tests/check_alert.c
tests_check_alert_CFLAGS = $(TEST_CFLAGS)
tests_check_alert_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/check_trigger
TESTS += tests/check_trigger
tests_check_trigger_SOURCES = tests/check_trigger.c
tests_check_trigger_CFLAGS = $(TEST_CFLAGS)
tests_check_trigger_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/check_decode
TESTS += tests/check_decode
tests_check_decode_SOURCES = tests/check_decode.c tests/stage_fixture.c tests/stage_fixture.h
tests_check_decode_CFLAGS = $(TEST_CFLAGS)
tests_check_decode_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/check_shutdown
TESTS += tests/check_shutdown
tests_check_shutdown_SOURCES = tests/check_shutdown.c
tests_check_shutdown_CFLAGS = $(TEST_CFLAGS)
tests_check_shutdown_LDADD = $(TEST_LIBS) -lpthread
