libragbatch_a_SOURCES += \
	src/validate/schema.c src/validate/schema.h src/validate/schema_node.h \
	src/validate/schema_validate.c src/validate/schema_ref.c src/validate/schema_ref.h \
	src/validate/schema_pattern.c src/validate/schema_pattern.h \
	src/validate/schema_decimal.c src/validate/schema_decimal.h \
	src/validate/schema_format.c src/validate/schema_format.h \
	src/validate/schema_equal.c src/validate/schema_equal.h

check_PROGRAMS += tests/check_schema
TESTS += tests/check_schema
tests_check_schema_SOURCES = tests/check_schema.c
tests_check_schema_CFLAGS = $(TEST_CFLAGS)
tests_check_schema_LDADD = $(TEST_LIBS)
EXTRA_DIST += conf/product_schema.json tests/data/schema

# The official JSON-Schema-Test-Suite (Debian package json-schema-test-suite).
check_PROGRAMS += tests/check_schema_suite
TESTS += tests/check_schema_suite
tests_check_schema_suite_SOURCES = tests/check_schema_suite.c
tests_check_schema_suite_CFLAGS = $(TEST_CFLAGS)
tests_check_schema_suite_LDADD = $(TEST_LIBS)
