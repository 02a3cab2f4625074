package io.connectmetrics.kinesis;

import org.junit.jupiter.api.Test;

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
}
