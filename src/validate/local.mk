libragbatch_a_SOURCES += \
	src/validate/schema.c src/validate/schema.h

check_PROGRAMS += tests/check_schema
TESTS += tests/check_schema
tests_check_schema_SOURCES = tests/check_schema.c
tests_check_schema_CFLAGS = $(TEST_CFLAGS)
tests_check_schema_LDADD = $(TEST_LIBS)
EXTRA_DIST += conf/product_schema.json tests/data/schema
