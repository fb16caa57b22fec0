# dlq: failed records to a dead-letter topic with Kafka Connect's headers
libragbatch_a_SOURCES += src/dlq/dlq.c src/dlq/dlq.h src/dlq/reader.c src/dlq/reader.h \
	src/dlq/copy.c src/dlq/copy.h src/dlq/topic.c src/dlq/topic.h \
	src/dlq/letter.c src/dlq/letter.h

check_PROGRAMS += tests/check_dlq
TESTS += tests/check_dlq
tests_check_dlq_SOURCES = tests/check_dlq.c
tests_check_dlq_CFLAGS = $(TEST_CFLAGS)
tests_check_dlq_LDADD = $(TEST_LIBS)
