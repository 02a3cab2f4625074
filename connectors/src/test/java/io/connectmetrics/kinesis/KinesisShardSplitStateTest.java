package io.connectmetrics.kinesis;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KinesisShardSplitStateTest {

    @Test
    void aLatestSplitIsCheckpointedAtTheTimeTheReaderTookIt() {
        KinesisShardSplit split =
                new KinesisShardSplit("shardId-000000000000", List.of(), StartingPosition.latest());
        KinesisShardSplit checkpointed = new KinesisShardSplitState(split, 1_000L).toSplit();
        assertEquals(StartingPosition.Type.AT_TIMESTAMP, checkpointed.startingPosition().type());
        assertEquals(1_000L, checkpointed.startingPosition().timestampMillis());
    }

    @Test
    void afterARecordTheCheckpointResumesAfterItsSequenceNumber() {
        KinesisShardSplit split =
                new KinesisShardSplit("shardId-000000000000", List.of(), StartingPosition.latest());
        KinesisShardSplitState state = new KinesisShardSplitState(split, 1_000L);
        state.setLastEmittedSequenceNumber("4959");
        KinesisShardSplit checkpointed = state.toSplit();
        assertEquals(
                StartingPosition.Type.AFTER_SEQUENCE_NUMBER,
                checkpointed.startingPosition().type());
    }

    @Test
    void otherPositionsAreKeptAsTheyAre() {
        KinesisShardSplit split =
                new KinesisShardSplit(
                        "shardId-000000000000", List.of(), StartingPosition.trimHorizon());
        assertEquals(split, new KinesisShardSplitState(split, 1_000L).toSplit());
    }

    @Test
    void aClockRecordIsEmittedButDoesNotMoveTheCheckpoint() {
        KinesisShardSplit split =
                new KinesisShardSplit(
                        "shardId-000000000000", List.of(), StartingPosition.trimHorizon());
        KinesisShardSplitState state = new KinesisShardSplitState(split, 1_000L);
        List<Row> rows = new ArrayList<>();
        SourceOutput<Row> output = new SourceOutput<>() {
            @Override
            public void collect(Row record) {
                rows.add(record);
            }

            @Override
            public void collect(Row record, long timestamp) {
                rows.add(record);
            }

            @Override
            public void emitWatermark(Watermark watermark) {}

            @Override
            public void markIdle() {}

            @Override
            public void markActive() {}
        };
        KinesisRecordEmitter emitter = new KinesisRecordEmitter("agent-events");
        emitter.emitRecord(new KinesisRecord("4959", 5L, new byte[] {1}), output, state);
        emitter.emitRecord(KinesisShardSplitReader.clockRecord(), output, state);
        assertEquals(2, rows.size());
        assertEquals(null, rows.get(1).getField(2));
        assertEquals(StartingPosition.afterSequenceNumber("4959"), state.toSplit().startingPosition());
    }
}
