libragbatch_a_SOURCES += \
	src/embed/embedder.c src/embed/embedder.h \
	src/embed/bert/tokenizer.c src/embed/bert/tokenizer.h \
	src/embed/bert/tokenizer_impl.h src/embed/bert/tokenizer_json.c \
	src/embed/bert/charsmap.c src/embed/bert/charsmap.h \
	src/embed/bert/safetensors.c src/embed/bert/safetensors.h \
	src/embed/bert/model_config.c src/embed/bert/model_config.h \
	src/embed/bert/matmul.c src/embed/bert/matmul.h src/embed/bert/clones.h \
	src/embed/bert/activation.c src/embed/bert/activation.h \
	src/embed/bert/packed.c src/embed/bert/packed.h \
	src/embed/bert/attention.c src/embed/bert/attention.h \
	src/embed/bert/int8.c src/embed/bert/int8.h src/embed/bert/vmath.h \
	src/embed/bert/bert.c src/embed/bert/bert.h \
	src/embed/bert/local.c

check_PROGRAMS += tests/check_tokenizer tests/check_embed
TESTS += tests/check_tokenizer tests/check_embed
tests_check_tokenizer_SOURCES = tests/check_tokenizer.c
tests_check_tokenizer_CFLAGS = $(TEST_CFLAGS)
tests_check_tokenizer_LDADD = $(TEST_LIBS)
tests_check_embed_SOURCES = tests/check_embed.c tests/spawn.c tests/spawn.h tests/model_edit.c tests/model_edit.h
tests_check_embed_CFLAGS = $(TEST_CFLAGS)
tests_check_embed_LDADD = $(TEST_LIBS)

# The tiny XLM-R / BERT / Unigram reference models of tests/data/models/.
check_PROGRAMS += tests/check_models
TESTS += tests/check_models
tests_check_models_SOURCES = tests/check_models.c tests/model_edit.c tests/model_edit.h tests/spawn.c tests/spawn.h
tests_check_models_CFLAGS = $(TEST_CFLAGS)
tests_check_models_LDADD = $(TEST_LIBS)

# HTTP embedding providers (openai, tei), the provider factory, their suite
# and the OpenAI/TEI test server it runs in-process.
libragbatch_a_SOURCES += \
	src/embed/http/http_embed.c src/embed/http/http_proto.c src/embed/http/http_proto.h \
	src/embed/http/http_fast.c \
	src/embed/http/openai.c src/embed/http/tei.c \
	src/embed/http/ratelimit.c src/embed/http/ratelimit.h \
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
tests_check_http_pipeline_SOURCES = tests/check_http_pipeline.c tests/harness.c tests/spawn.c tests/spawn.h \
	tests/harness.h tests/servers/embed_server.c tests/servers/embed_server.h \
	tests/servers/http_server.c tests/servers/http_server.h
tests_check_http_pipeline_CFLAGS = $(TEST_CFLAGS) -pthread
tests_check_http_pipeline_LDADD = $(TEST_LIBS) -lpthread
EXTRA_tests_check_http_pipeline_DEPENDENCIES = ragbatch$(EXEEXT)
