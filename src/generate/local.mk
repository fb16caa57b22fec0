# generate: the synthetic product-event source
libragbatch_a_SOURCES += \
	src/generate/catalog.c src/generate/catalog.h \
	src/generate/generate.c src/generate/generate.h \
	src/generate/pacer.c src/generate/pacer.h \
	src/generate/producer.c src/generate/producer.h

check_PROGRAMS += tests/check_generate
TESTS += tests/check_generate
tests_check_generate_SOURCES = tests/check_generate.c tests/spawn.c tests/spawn.h
tests_check_generate_CFLAGS = $(TEST_CFLAGS)
tests_check_generate_LDADD = $(TEST_LIBS)
