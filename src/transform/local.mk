libragbatch_a_SOURCES += \
	src/transform/template.c src/transform/template.h

# Event -> document fields (id, version, op, text); owned by the runner's author.
libragbatch_a_SOURCES += src/transform/document.c src/transform/document.h

check_PROGRAMS += tests/check_template
TESTS += tests/check_template
tests_check_template_SOURCES = tests/check_template.c
tests_check_template_CFLAGS = $(TEST_CFLAGS)
tests_check_template_LDADD = $(TEST_LIBS)
