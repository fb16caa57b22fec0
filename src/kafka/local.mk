# kafka: the one librdkafka client layer (configuration builder, acknowledged producer)
libragbatch_a_SOURCES += \
	src/kafka/config.c src/kafka/config.h src/kafka/client.h \
	src/kafka/errors.c src/kafka/errors.h \
	src/kafka/producer.c src/kafka/producer.h \
	src/kafka/inspect.c src/kafka/inspect.h \
	src/kafka/properties.c src/kafka/properties.h

check_PROGRAMS += tests/check_kafka
TESTS += tests/check_kafka
tests_check_kafka_SOURCES = tests/check_kafka.c
tests_check_kafka_CFLAGS = $(TEST_CFLAGS)
tests_check_kafka_LDADD = $(TEST_LIBS)
