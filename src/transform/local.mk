libragbatch_a_SOURCES += \
	src/transform/template.c src/transform/template.h

# Event -> document fields (id, version, op, text); owned by the runner's author.
libragbatch_a_SOURCES += src/transform/document.c src/transform/document.h

# Long texts cut into chunks measured in the embedder's tokens.
libragbatch_a_SOURCES += src/transform/chunk.c src/transform/chunk.h

check_PROGRAMS += tests/check_template
TESTS += tests/check_template
tests_check_template_SOURCES = tests/check_template.c
tests_check_template_CFLAGS = $(TEST_CFLAGS)
tests_check_template_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/check_chunk
TESTS += tests/check_chunk
tests_check_chunk_SOURCES = tests/check_chunk.c
tests_check_chunk_CFLAGS = $(TEST_CFLAGS)
tests_check_chunk_LDADD = $(TEST_LIBS)
