package io.connectmetrics.kinesis;

import org.apache.flink.api.connector.source.SourceEvent;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KinesisShardEnumeratorTest {

    private static final String S0 = "shardId-000000000000";
    private static final String S1 = "shardId-000000000001";
    private static final String S2 = "shardId-000000000002";
    private static final String S3 = "shardId-000000000003";
    private static final String S4 = "shardId-000000000004";

    private static KinesisSourceConfig config(String initialPosition) {
        return KinesisShardSource.builder()
                .streamName("agent-events")
                .region("us-east-1")
                .endpoint("http://127.0.0.1:4568")
                .initialPosition(initialPosition)
                .build()
                .config();
    }

    private static KinesisShardEnumerator enumerator(
            TestingEnumeratorContext context,
            FakeKinesisClient kinesis,
            KinesisEnumeratorState state,
            String initialPosition,
            long unreachableMillis) {
        KinesisShardEnumerator enumerator =
                new KinesisShardEnumerator(
                        context,
                        config(initialPosition),
                        (cfg, retries) -> kinesis,
                        state,
                        unreachableMillis);
        enumerator.start();
        return enumerator;
    }

    private static KinesisShardEnumerator enumerator(
            TestingEnumeratorContext context, FakeKinesisClient kinesis) {
        return enumerator(context, kinesis, KinesisEnumeratorState.empty(), "TRIM_HORIZON", 60_000);
    }

    @Test
    void ownerIsStableAndSpreadsStandardShardIds() {
        assertEquals(0, KinesisShardEnumerator.ownerOf(S0, 2));
        assertEquals(1, KinesisShardEnumerator.ownerOf(S1, 2));
        assertEquals(2, KinesisShardEnumerator.ownerOf("shardId-000000000011", 3));
        int custom = KinesisShardEnumerator.ownerOf("my-shard-x", 4);
        assertEquals(custom, KinesisShardEnumerator.ownerOf("my-shard-x", 4));
        assertTrue(custom >= 0 && custom < 4);
    }

    @Test
    void assignsEachShardToItsOwnerOnceItRegisters() {
        FakeKinesisClient kinesis =
                new FakeKinesisClient("agent-events").shard(S0).shard(S1).shard(S2).shard(S3);
        TestingEnumeratorContext context = new TestingEnumeratorContext(2);
        KinesisShardEnumerator enumerator = enumerator(context, kinesis);
        context.registerReader(0);
        enumerator.addReader(0);
        context.runPeriodicCalls();

        assertEquals(List.of(S0, S2), context.assignedTo(0));
        assertEquals(List.of(), context.assignedTo(1));
        assertEquals(java.util.Set.of(S1, S3), enumerator.unassignedShardIds());

        context.registerReader(1);
        enumerator.addReader(1);
        assertEquals(List.of(S1, S3), context.assignedTo(1));

        // Later discovery rounds hand out nothing twice.
        context.runPeriodicCalls();
        context.runPeriodicCalls();
        assertEquals(4, context.allAssignedIds().size());
        assertEquals(StartingPosition.trimHorizon(), context.assignedSplit(S0).startingPosition());
    }

    @Test
    void childWaitsUntilAllParentsAreFinished() {
        // S0 and S1 merged into S2; S2 split into S3 and S4.
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events")
                .shard(S0).shard(S1).shard(S2, S0, S1).shard(S3, S2).shard(S4, S2);
        kinesis.close(S0).close(S1).close(S2);
        TestingEnumeratorContext context = new TestingEnumeratorContext(2);
        KinesisShardEnumerator enumerator = enumerator(context, kinesis);
        context.registerReader(0);
        context.registerReader(1);
        context.runPeriodicCalls();
        assertEquals(List.of(S0, S1), context.allAssignedIds());

        enumerator.handleSourceEvent(0, new ShardsFinishedEvent(List.of(S0)));
        assertEquals(List.of(S0, S1), context.allAssignedIds(), "S2 still waits for S1");

        enumerator.handleSourceEvent(1, new ShardsFinishedEvent(List.of(S1)));
        assertEquals(List.of(S0, S2), context.assignedTo(0));
        assertEquals(List.of(S1), context.assignedTo(1));

        enumerator.handleSourceEvent(0, new ShardsFinishedEvent(List.of(S2)));
        assertEquals(List.of(S0, S2, S4), context.assignedTo(0));
        assertEquals(List.of(S1, S3), context.assignedTo(1));
    }

    @Test
    void childWhoseParentLeftTheListingIsAssignedAtOnce() {
        FakeKinesisClient kinesis =
                new FakeKinesisClient("agent-events").shard(S3, S1).shard(S4, S1, S2);
        TestingEnumeratorContext context = new TestingEnumeratorContext(2);
        enumerator(context, kinesis);
        context.registerReader(0);
        context.registerReader(1);
        context.runPeriodicCalls();
        assertEquals(List.of(S4), context.assignedTo(0));
        assertEquals(List.of(S3), context.assignedTo(1));
    }

    @Test
    void shardsFoundAfterTheFirstListingStartAtTrimHorizon() {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        TestingEnumeratorContext context = new TestingEnumeratorContext(1);
        KinesisShardEnumerator enumerator = enumerator(
                context, kinesis, KinesisEnumeratorState.empty(), "LATEST", 60_000);
        context.registerReader(0);
        context.runPeriodicCalls();
        assertEquals(StartingPosition.latest(), context.assignedSplit(S0).startingPosition());

        kinesis.close(S0).shard(S1, S0).shard(S2, S0);
        context.runPeriodicCalls();
        assertEquals(List.of(S0), context.allAssignedIds());
        enumerator.handleSourceEvent(0, new ShardsFinishedEvent(List.of(S0)));
        assertEquals(List.of(S0, S1, S2), context.allAssignedIds());
        assertEquals(StartingPosition.trimHorizon(), context.assignedSplit(S1).startingPosition());
        assertEquals(StartingPosition.trimHorizon(), context.assignedSplit(S2).startingPosition());
    }

    @Test
    void restoreNeitherRereadsNorSkipsShards() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events")
                .shard(S0).shard(S1).shard(S2, S0).shard(S3, S0);
        kinesis.close(S0);
        TestingEnumeratorContext context = new TestingEnumeratorContext(2);
        KinesisShardEnumerator enumerator = enumerator(context, kinesis);
        context.registerReader(0);
        context.runPeriodicCalls();
        enumerator.handleSourceEvent(0, new ShardsFinishedEvent(List.of(S0)));
        assertEquals(List.of(S0, S2), context.assignedTo(0));

        KinesisEnumeratorStateSerializer serializer = new KinesisEnumeratorStateSerializer();
        KinesisEnumeratorState state = serializer.deserialize(
                serializer.getVersion(), serializer.serialize(enumerator.snapshotState(7L)));
        assertEquals(java.util.Set.of(S2), state.assignedShardIds());
        assertEquals(java.util.Set.of(S0), state.finishedShardIds());
        assertEquals(2, state.unassignedSplits().size(), "S1 and S3 wait for reader 1");

        TestingEnumeratorContext restoredContext = new TestingEnumeratorContext(2);
        KinesisShardEnumerator restored =
                enumerator(restoredContext, kinesis, state, "LATEST", 60_000);
        restoredContext.registerReader(0);
        restoredContext.registerReader(1);
        restored.addReader(0);
        restored.addReader(1);
        assertEquals(List.of(), restoredContext.allAssignedIds(), "waits for a listing");
        restoredContext.runPeriodicCalls();
        assertEquals(List.of(S1, S3), restoredContext.assignedTo(1));
        assertEquals(List.of(), restoredContext.assignedTo(0), "S0 finished, S2 still with reader 0");
        // Positions chosen before the checkpoint survive it.
        assertEquals(StartingPosition.trimHorizon(),
                restoredContext.assignedSplit(S1).startingPosition());
    }

    @Test
    void splitsAddedBackGoToTheOwnerWhenItReturns() {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0).shard(S1);
        TestingEnumeratorContext context = new TestingEnumeratorContext(2);
        KinesisShardEnumerator enumerator = enumerator(context, kinesis);
        context.registerReader(0);
        context.registerReader(1);
        context.runPeriodicCalls();
        KinesisShardSplit given = context.assignedSplit(S1)
                .withStartingPosition(StartingPosition.afterSequenceNumber("123"));

        context.unregisterReader(1);
        enumerator.addSplitsBack(List.of(given), 1);
        assertEquals(java.util.Set.of(S1), enumerator.unassignedShardIds());

        context.registerReader(1);
        enumerator.addReader(1);
        assertEquals(List.of(S1, S1), context.assignedTo(1));
        assertEquals(given, context.assigned.get(1).get(1));
    }

    @Test
    void completedCheckpointReleasesFinishedMarkers() {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0).shard(S1);
        kinesis.close(S0);
        TestingEnumeratorContext context = new TestingEnumeratorContext(1);
        KinesisShardEnumerator enumerator = enumerator(context, kinesis);
        context.registerReader(0);
        context.runPeriodicCalls();

        enumerator.snapshotState(1L);
        enumerator.handleSourceEvent(0, new ShardsFinishedEvent(List.of(S0)));
        enumerator.notifyCheckpointComplete(1L);
        assertTrue(context.eventsToReaders.isEmpty(), "checkpoint 1 predates the report");

        enumerator.snapshotState(2L);
        enumerator.notifyCheckpointComplete(2L);
        assertEquals(1, context.eventsToReaders.size());
        Map.Entry<Integer, SourceEvent> sent = context.eventsToReaders.get(0);
        assertEquals(0, sent.getKey());
        assertEquals(List.of(S0),
                assertInstanceOf(FinishedShardsCommittedEvent.class, sent.getValue()).shardIds());

        enumerator.snapshotState(3L);
        enumerator.notifyCheckpointComplete(3L);
        assertEquals(1, context.eventsToReaders.size(), "released once");
    }

    @Test
    void finishedShardsGoneFromTheListingAreForgotten() {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        TestingEnumeratorContext context = new TestingEnumeratorContext(1);
        KinesisShardEnumerator enumerator = enumerator(context, kinesis);
        context.registerReader(0);
        context.runPeriodicCalls();
        enumerator.handleSourceEvent(0, new ShardsFinishedEvent(List.of(S0, S4)));
        assertEquals(java.util.Set.of(S0, S4), enumerator.finishedShardIds());
        context.runPeriodicCalls();
        assertEquals(java.util.Set.of(S0), enumerator.finishedShardIds());
    }

    @Test
    void missingStreamFailsWithAnActionableMessage() {
        FakeKinesisClient kinesis = new FakeKinesisClient("other-stream");
        TestingEnumeratorContext context = new TestingEnumeratorContext(1);
        enumerator(context, kinesis);
        KinesisSourceException e =
                assertThrows(KinesisSourceException.class, context::runPeriodicCalls);
        assertTrue(e.getMessage().contains("'agent-events'"), e.getMessage());
        assertTrue(e.getMessage().contains("http://127.0.0.1:4568"), e.getMessage());
        assertTrue(e.getMessage().contains("connect-metrics dev up"), e.getMessage());
    }

    @Test
    void unreachableEndpointIsRetriedThenGivenUpOnAtStart() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        kinesis.failListing(new KinesisClientException(
                KinesisClientException.Kind.TRANSIENT, "Connection refused"));
        TestingEnumeratorContext context = new TestingEnumeratorContext(1);
        enumerator(context, kinesis, KinesisEnumeratorState.empty(), "TRIM_HORIZON", 30);
        context.registerReader(0);
        context.runPeriodicCalls();
        assertTrue(context.allAssignedIds().isEmpty());
        Thread.sleep(50);
        KinesisSourceException e =
                assertThrows(KinesisSourceException.class, context::runPeriodicCalls);
        assertTrue(e.getMessage().contains("Connection refused"), e.getMessage());
        assertTrue(e.getMessage().contains("kept failing"), e.getMessage());
    }

    @Test
    void transientListingFailuresAfterStartAreOnlyLogged() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        TestingEnumeratorContext context = new TestingEnumeratorContext(1);
        KinesisShardEnumerator enumerator =
                enumerator(context, kinesis, KinesisEnumeratorState.empty(), "TRIM_HORIZON", 1);
        context.registerReader(0);
        context.runPeriodicCalls();
        kinesis.failListing(new KinesisClientException(
                KinesisClientException.Kind.THROTTLED, "Rate exceeded"));
        context.runPeriodicCalls();
        Thread.sleep(10);
        context.runPeriodicCalls();
        kinesis.failListing(null);
        kinesis.shard(S1);
        context.runPeriodicCalls();
        assertEquals(List.of(S0, S1), context.allAssignedIds());
        assertFalse(enumerator.unassignedShardIds().contains(S1));
    }
}
