package io.connectmetrics.kinesis;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SerializerTest {

    private final KinesisShardSplitSerializer splits = new KinesisShardSplitSerializer();
    private final KinesisEnumeratorStateSerializer states = new KinesisEnumeratorStateSerializer();

    private KinesisShardSplit roundTrip(KinesisShardSplit split) throws IOException {
        return splits.deserialize(splits.getVersion(), splits.serialize(split));
    }

    @Test
    void splitRoundTripsEveryPosition() throws IOException {
        List<KinesisShardSplit> cases =
                List.of(
                        new KinesisShardSplit("shardId-000000000000", List.of(),
                                StartingPosition.trimHorizon()),
                        new KinesisShardSplit("shardId-000000000001", List.of("shardId-000000000000"),
                                StartingPosition.latest()),
                        new KinesisShardSplit("shardId-000000000002",
                                List.of("shardId-000000000000", "shardId-000000000001"),
                                StartingPosition.atTimestamp(1_738_310_400_123L)),
                        new KinesisShardSplit("shardId-000000000003", List.of(),
                                StartingPosition.afterSequenceNumber(
                                        "49655391434553040419135224958413592130063862392186912770")),
                        new KinesisShardSplit("shardId-000000000004", List.of("shardId-000000000003"),
                                StartingPosition.afterSequenceNumber("42"), true));
        for (KinesisShardSplit split : cases) {
            KinesisShardSplit copy = roundTrip(split);
            assertEquals(split, copy);
            assertEquals(split.splitId(), copy.splitId());
            assertEquals(split.isFinished(), copy.isFinished());
        }
    }

    @Test
    void splitRejectsUnknownVersion() throws IOException {
        byte[] bytes = splits.serialize(
                new KinesisShardSplit("s", List.of(), StartingPosition.trimHorizon()));
        IOException e = assertThrows(IOException.class, () -> splits.deserialize(99, bytes));
        assertEquals(true, e.getMessage().contains("version 99"));
    }

    @Test
    void enumeratorStateRoundTrips() throws IOException {
        KinesisEnumeratorState state =
                new KinesisEnumeratorState(
                        List.of("shardId-000000000003", "shardId-000000000004"),
                        List.of("shardId-000000000000", "shardId-000000000001"),
                        List.of(
                                new KinesisShardSplit("shardId-000000000005",
                                        List.of("shardId-000000000003", "shardId-000000000004"),
                                        StartingPosition.trimHorizon()),
                                new KinesisShardSplit("shardId-000000000006", List.of(),
                                        StartingPosition.atTimestamp(5L))),
                        true);
        KinesisEnumeratorState copy =
                states.deserialize(states.getVersion(), states.serialize(state));
        assertEquals(state, copy);

        KinesisEnumeratorState empty = KinesisEnumeratorState.empty();
        assertEquals(empty, states.deserialize(states.getVersion(), states.serialize(empty)));
    }

    @Test
    void enumeratorStateRejectsUnknownVersionAndTrailingBytes() throws IOException {
        byte[] bytes = states.serialize(KinesisEnumeratorState.empty());
        assertThrows(IOException.class, () -> states.deserialize(2, bytes));
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        assertThrows(IOException.class, () -> states.deserialize(states.getVersion(), longer));
    }

    @Test
    void startingPositionParsesUserForms() {
        assertEquals(StartingPosition.trimHorizon(), StartingPosition.parse("TRIM_HORIZON"));
        assertEquals(StartingPosition.trimHorizon(), StartingPosition.parse(""));
        assertEquals(StartingPosition.latest(), StartingPosition.parse(" latest "));
        assertEquals(
                StartingPosition.atTimestamp(1_738_310_400_000L),
                StartingPosition.parse("AT_TIMESTAMP:2025-01-31T08:00:00Z"));
        IllegalArgumentException bad =
                assertThrows(IllegalArgumentException.class,
                        () -> StartingPosition.parse("AT_TIMESTAMP:yesterday"));
        assertEquals(true, bad.getMessage().contains("ISO-8601"));
        assertThrows(IllegalArgumentException.class, () -> StartingPosition.parse("EARLIEST"));
    }
}
