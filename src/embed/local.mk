libragbatch_a_SOURCES += \
	src/embed/embedder.c src/embed/embedder.h \
	src/embed/tokenizer.c src/embed/tokenizer.h \
	src/embed/safetensors.c src/embed/safetensors.h \
	src/embed/model_config.c src/embed/model_config.h \
	src/embed/matmul.c src/embed/matmul.h src/embed/clones.h \
	src/embed/activation.c src/embed/activation.h \
	src/embed/packed.c src/embed/packed.h \
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

# HTTP embedding providers (openai, tei), the provider factory, their suite
# and the OpenAI/TEI test server it runs in-process.
libragbatch_a_SOURCES += \
	src/embed/http_embed.c src/embed/http_proto.c src/embed/http_proto.h \
	src/embed/http_fast.c \
	src/embed/openai.c src/embed/tei.c \
	src/embed/ratelimit.c src/embed/ratelimit.h \
	src/embed/factory.c

check_PROGRAMS += tests/check_http_embed
TESTS += tests/check_http_embed
tests_check_http_embed_SOURCES = tests/check_http_embed.c \
	tests/servers/embed_server.c tests/servers/embed_server.h \
	tests/servers/http_server.c tests/servers/http_server.h
tests_check_http_embed_CFLAGS = $(TEST_CFLAGS) -pthread
tests_check_http_embed_LDADD = $(TEST_LIBS) -lpthread

# `ragbatch run` with embed.provider = openai against the test server, on
# the real Kafka and MongoDB-wire servers (see tests/harness.h).
check_PROGRAMS += tests/check_http_pipeline
TESTS += tests/check_http_pipeline
tests_check_http_pipeline_SOURCES = tests/check_http_pipeline.c tests/harness.c \
	tests/harness.h tests/servers/embed_server.c tests/servers/embed_server.h \
	tests/servers/http_server.c tests/servers/http_server.h
tests_check_http_pipeline_CFLAGS = $(TEST_CFLAGS) -pthread
tests_check_http_pipeline_LDADD = $(TEST_LIBS) -lpthread
EXTRA_tests_check_http_pipeline_DEPENDENCIES = ragbatch$(EXEEXT)
