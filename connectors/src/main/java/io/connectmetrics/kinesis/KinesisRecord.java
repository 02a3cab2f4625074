package io.connectmetrics.kinesis;

/**
 * One record as returned by GetRecords.
 *
 * @param sequenceNumber the record's sequence number within its shard; null for a clock record
 *     (see {@link KinesisSourceConfig#idleClockMillis()})
 * @param approximateArrivalMillis epoch millis of ApproximateArrivalTimestamp, or null if absent
 * @param data the record's bytes, exactly as written by the producer
 */
public record KinesisRecord(String sequenceNumber, Long approximateArrivalMillis, byte[] data) {}
