# dlq: failed records to a dead-letter topic with Kafka Connect's headers
libragbatch_a_SOURCES += src/dlq/dlq.c src/dlq/dlq.h src/dlq/reader.c src/dlq/reader.h
