package io.connectmetrics.kinesis;

import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.connector.base.source.reader.RecordEmitter;
import org.apache.flink.types.Row;

/**
 * Turns a Kinesis record into the source's row and advances the shard's checkpointed position.
 * The record's timestamp is its ApproximateArrivalTimestamp.
 */
final class KinesisRecordEmitter implements RecordEmitter<KinesisRecord, Row, KinesisShardSplitState> {

    private final String streamName;

    KinesisRecordEmitter(String streamName) {
        this.streamName = streamName;
    }

    @Override
    public void emitRecord(
            KinesisRecord record, SourceOutput<Row> output, KinesisShardSplitState state) {
        Long arrival = record.approximateArrivalMillis();
        Row row =
                Row.of(
                        streamName,
                        state.shardId(),
                        record.sequenceNumber(),
                        arrival,
                        record.data());
        if (arrival != null) {
            output.collect(row, arrival);
        } else {
            output.collect(row);
        }
        if (record.sequenceNumber() != null) { // a clock record has no position
            state.setLastEmittedSequenceNumber(record.sequenceNumber());
        }
    }
}
