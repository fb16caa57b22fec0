/*
 * errors.h -- what a producer error (a delivery report's or the produce
 * call's) means for the record, by what can pass later:
 *   RETRIABLE    the same record may be accepted later (broker or network
 *                down, leader moving, timeouts, a full local queue): retry
 *                with backoff, nothing committed meanwhile;
 *   RECORD       this record is refused as it is (too large, invalid record
 *                or timestamp): a smaller or plainer copy may pass (the
 *                DLQ's bounded copy, dlq/copy.h);
 *   DESTINATION  the topic refuses everything (does not exist, not
 *                authorised, unsupported, fatal producer state, or an error
 *                this table does not know): waiting does not help.
 * Codes are librdkafka's rd_kafka_resp_err_t as ints, so that callers need
 * no librdkafka header.  Pure; safe from any thread.
 */
#ifndef RB_KAFKA_ERRORS_H
#define RB_KAFKA_ERRORS_H

typedef enum rb_kafka_error_class {
    RB_KAFKA_RETRIABLE = 0,
    RB_KAFKA_RECORD,
    RB_KAFKA_DESTINATION
} rb_kafka_error_class;

rb_kafka_error_class rb_kafka_classify(int code);

#endif
