libragbatch_a_SOURCES += \
	src/embed/embedder.c src/embed/embedder.h \
	src/embed/tokenizer.c src/embed/tokenizer.h \
	src/embed/safetensors.c src/embed/safetensors.h \
	src/embed/model_config.c src/embed/model_config.h \
	src/embed/matmul.c src/embed/matmul.h \
	src/embed/bert.c src/embed/bert.h \
	src/embed/local.c \
	src/cli/cmd_embed.c src/cli/commands.h

check_PROGRAMS += tests/check_tokenizer tests/check_embed
TESTS += tests/check_tokenizer tests/check_embed
tests_check_tokenizer_SOURCES = tests/check_tokenizer.c
tests_check_tokenizer_CFLAGS = $(TEST_CFLAGS)
tests_check_tokenizer_LDADD = $(TEST_LIBS)
tests_check_embed_SOURCES = tests/check_embed.c
tests_check_embed_CFLAGS = $(TEST_CFLAGS)
tests_check_embed_LDADD = $(TEST_LIBS)
