libragbatch_a_SOURCES += src/batch/batch.c src/batch/batch.h src/batch/record.c src/batch/record.h
libragbatch_a_SOURCES += src/batch/record_chunks.c src/batch/record_chunks.h

check_PROGRAMS += tests/check_batch
TESTS += tests/check_batch
tests_check_batch_SOURCES = tests/check_batch.c
tests_check_batch_CFLAGS = $(TEST_CFLAGS)
tests_check_batch_LDADD = $(TEST_LIBS)
