package io.connectmetrics.kinesis;

import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KinesisShardSplitReaderTest {

    private static final String S0 = "shardId-000000000000";
    private static final String S1 = "shardId-000000000001";

    /** What a sequence of fetches handed over. */
    private static final class Fetched {
        final List<String> payloads = new ArrayList<>();
        final List<String> shardOrder = new ArrayList<>();
        final Set<String> finished = new HashSet<>();
        String lastSequenceNumber;
    }

    private static KinesisSourceConfig config(int maxRecords) {
        return KinesisShardSource.builder()
                .streamName("agent-events")
                .region("us-east-1")
                .endpoint("http://127.0.0.1:4568")
                .pollIntervalMillis(1)
                .maxRecordsPerPoll(maxRecords)
                .build()
                .config();
    }

    private static KinesisShardSplitReader reader(
            FakeKinesisClient kinesis, int maxRecords, long maxTransientMillis) {
        return new KinesisShardSplitReader(
                config(maxRecords),
                kinesis,
                KinesisReaderMetrics.unregistered(),
                new Backoff(1, 4),
                maxTransientMillis);
    }

    private static void add(KinesisShardSplitReader reader, KinesisShardSplit... splits) {
        reader.handleSplitsChanges(new SplitsAddition<>(List.of(splits)));
    }

    private static KinesisShardSplit split(String shardId, StartingPosition position) {
        return new KinesisShardSplit(shardId, List.of(), position);
    }

    /** Fetches until {@code count} payloads arrived (or the shards given are finished). */
    private static Fetched fetchUntil(KinesisShardSplitReader reader, int count, String... ends)
            throws Exception {
        Fetched fetched = new Fetched();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (fetched.payloads.size() < count || !fetched.finished.containsAll(List.of(ends))) {
            assertTrue(System.nanoTime() < deadline, "timed out; got " + fetched.payloads);
            RecordsWithSplitIds<KinesisRecord> batch = reader.fetch();
            String shard;
            while ((shard = batch.nextSplit()) != null) {
                fetched.shardOrder.add(shard);
                KinesisRecord record;
                while ((record = batch.nextRecordFromSplit()) != null) {
                    fetched.payloads.add(new String(record.data(), StandardCharsets.UTF_8));
                    fetched.lastSequenceNumber = record.sequenceNumber();
                }
            }
            fetched.finished.addAll(batch.finishedSplits());
        }
        return fetched;
    }

    @Test
    void readsEveryRecordOnceAndPollsShardsInTurn() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0).shard(S1);
        for (int i = 0; i < 10; i++) {
            kinesis.put(S0, "a" + i);
            kinesis.put(S1, "b" + i);
        }
        KinesisShardSplitReader reader = reader(kinesis, 3, 60_000);
        add(reader, split(S0, StartingPosition.trimHorizon()),
                split(S1, StartingPosition.trimHorizon()));

        Fetched fetched = fetchUntil(reader, 20);
        List<String> expectedA = new ArrayList<>();
        List<String> expectedB = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expectedA.add("a" + i);
            expectedB.add("b" + i);
        }
        assertEquals(expectedA, fetched.payloads.stream().filter(p -> p.startsWith("a")).toList());
        assertEquals(expectedB, fetched.payloads.stream().filter(p -> p.startsWith("b")).toList());
        // Round-robin: the two shards alternate while both have data.
        assertEquals(List.of(S0, S1, S0, S1, S0, S1, S0, S1), fetched.shardOrder);
        assertTrue(kinesis.getRecordsLimits.stream().allMatch(limit -> limit == 3));

        // Caught up: new data is picked up, old data is not repeated.
        kinesis.put(S1, "b10");
        assertEquals(List.of("b10"), fetchUntil(reader, 1).payloads);
        reader.close();
        assertTrue(kinesis.closed);
    }

    @Test
    void aQuietCaughtUpShardHandsOverClockRecordsAndNoneWhileRecordsFlow() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        kinesis.put(S0, "r0", "r1");
        KinesisSourceConfig config = KinesisShardSource.builder()
                .streamName("agent-events").region("us-east-1").pollIntervalMillis(1)
                .idleClockMillis(50).build().config();
        KinesisShardSplitReader reader = new KinesisShardSplitReader(
                config, kinesis, KinesisReaderMetrics.unregistered(), new Backoff(1, 4), 60_000);
        add(reader, split(S0, StartingPosition.trimHorizon()));

        List<KinesisRecord> handed = new ArrayList<>();
        long started = System.currentTimeMillis();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (handed.stream().filter(r -> r.sequenceNumber() == null).count() < 2) {
            assertTrue(System.nanoTime() < deadline, "no clock records; got " + handed);
            RecordsWithSplitIds<KinesisRecord> batch = reader.fetch();
            while (batch.nextSplit() != null) {
                KinesisRecord record;
                while ((record = batch.nextRecordFromSplit()) != null) {
                    handed.add(record);
                }
            }
        }
        assertEquals("r0", new String(handed.get(0).data(), StandardCharsets.UTF_8));
        assertEquals("r1", new String(handed.get(1).data(), StandardCharsets.UTF_8));
        KinesisRecord clock = handed.get(2);
        assertEquals(null, clock.sequenceNumber());
        assertEquals(0, clock.data().length);
        assertTrue(clock.approximateArrivalMillis() >= started + 50, "a clock waits its period");
        long ticks = handed.stream().filter(r -> r.sequenceNumber() == null).count();
        assertEquals(handed.size() - 2, ticks, "only clocks follow the records");
    }

    @Test
    void withoutAnIdleClockAQuietShardHandsOverNothing() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        KinesisShardSplitReader reader = reader(kinesis, 100, 60_000);
        add(reader, split(S0, StartingPosition.trimHorizon()));
        CompletableFuture<RecordsWithSplitIds<KinesisRecord>> fetch =
                CompletableFuture.supplyAsync(reader::fetch);
        Thread.sleep(300); // polled every millisecond meanwhile
        assertFalse(fetch.isDone());
        reader.wakeUp();
        assertEquals(null, fetch.get(2, TimeUnit.SECONDS).nextSplit());
    }

    @Test
    void resumesAfterTheCheckpointedSequenceNumber() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        kinesis.put(S0, "r0", "r1", "r2", "r3");
        String afterR1 = kinesis.records(S0).get(1).sequenceNumber();
        KinesisShardSplitReader reader = reader(kinesis, 100, 60_000);
        add(reader, split(S0, StartingPosition.afterSequenceNumber(afterR1)));
        assertEquals(List.of("r2", "r3"), fetchUntil(reader, 2).payloads);
        assertEquals(List.of(S0 + "@AFTER_SEQUENCE_NUMBER:" + afterR1),
                kinesis.getShardIteratorCalls);
    }

    @Test
    void expiredIteratorIsRecreatedAfterTheLastRecordRead() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        kinesis.put(S0, "r0", "r1", "r2");
        KinesisShardSplitReader reader = reader(kinesis, 2, 60_000);
        add(reader, split(S0, StartingPosition.trimHorizon()));
        Fetched first = fetchUntil(reader, 3);
        assertEquals(List.of("r0", "r1", "r2"), first.payloads);

        kinesis.expireIterators();
        kinesis.put(S0, "r3", "r4");
        Fetched second = fetchUntil(reader, 2);
        assertEquals(List.of("r3", "r4"), second.payloads);
        assertEquals(
                List.of(S0 + "@TRIM_HORIZON",
                        S0 + "@AFTER_SEQUENCE_NUMBER:" + first.lastSequenceNumber),
                kinesis.getShardIteratorCalls);
    }

    @Test
    void closedShardIsReportedFinishedAfterItsLastRecords() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0).shard(S1);
        kinesis.put(S0, "r0", "r1", "r2").close(S0);
        kinesis.put(S1, "x0");
        KinesisShardSplitReader reader = reader(kinesis, 2, 60_000);
        add(reader, split(S0, StartingPosition.trimHorizon()),
                split(S1, StartingPosition.trimHorizon()));
        Fetched fetched = fetchUntil(reader, 4, S0);
        assertEquals(Set.of(S0), fetched.finished);
        assertEquals(List.of("r0", "r1", "r2"),
                fetched.payloads.stream().filter(p -> p.startsWith("r")).toList());
        assertEquals(List.of(S1), reader.pollingOrder());
    }

    @Test
    void throttlingAndTransientFailuresKeepThePosition() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        kinesis.put(S0, "r0", "r1", "r2", "r3");
        KinesisReaderMetrics metrics = KinesisReaderMetrics.unregistered();
        KinesisShardSplitReader reader = new KinesisShardSplitReader(
                config(2), kinesis, metrics, new Backoff(1, 4), 60_000);
        add(reader, split(S0, StartingPosition.trimHorizon()));
        kinesis.failNextGetShardIterator(KinesisClientException.Kind.TRANSIENT, 1);
        kinesis.failNextGetRecords(KinesisClientException.Kind.THROTTLED, 3);
        assertEquals(List.of("r0", "r1"), fetchUntil(reader, 2).payloads);
        kinesis.failNextGetRecords(KinesisClientException.Kind.TRANSIENT, 2);
        assertEquals(List.of("r2", "r3"), fetchUntil(reader, 2).payloads);
        assertEquals(6, metrics.retryCount());
        assertEquals(4, metrics.recordsReadCount());
    }

    @Test
    void missingStreamFailsWithAnActionableMessage() {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        KinesisShardSplitReader reader = reader(kinesis, 10, 60_000);
        add(reader, split(S0, StartingPosition.trimHorizon()));
        kinesis.failNextGetShardIterator(KinesisClientException.Kind.STREAM_NOT_FOUND, 1);
        KinesisSourceException e = assertThrows(KinesisSourceException.class, reader::fetch);
        assertTrue(e.getMessage().contains("'agent-events'"), e.getMessage());
        assertTrue(e.getMessage().contains("http://127.0.0.1:4568"), e.getMessage());
        assertTrue(e.getMessage().contains("connect-metrics dev up"), e.getMessage());
    }

    @Test
    void transientFailuresThatLastTooLongFailTheReader() {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        kinesis.put(S0, "r0");
        KinesisShardSplitReader reader = reader(kinesis, 10, 20);
        add(reader, split(S0, StartingPosition.trimHorizon()));
        kinesis.failNextGetRecords(KinesisClientException.Kind.TRANSIENT, 1_000_000);
        KinesisSourceException e = assertThrows(KinesisSourceException.class, () -> {
            while (true) {
                reader.fetch();
            }
        });
        assertTrue(e.getMessage().contains("kept failing"), e.getMessage());
    }

    @Test
    void shardPastRetentionCountsAsFinished() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        KinesisShardSplitReader reader = reader(kinesis, 10, 60_000);
        add(reader, split("shardId-000000000099", StartingPosition.trimHorizon()));
        Fetched fetched = fetchUntil(reader, 0, "shardId-000000000099");
        assertTrue(fetched.payloads.isEmpty());
    }

    @Test
    void wakeUpEndsAWaitingFetch() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0);
        KinesisSourceConfig slow = KinesisShardSource.builder().streamName("agent-events")
                .region("us-east-1").pollIntervalMillis(60_000).build().config();
        KinesisShardSplitReader reader = new KinesisShardSplitReader(
                slow, kinesis, KinesisReaderMetrics.unregistered(), new Backoff(1, 4), 60_000);
        add(reader, split(S0, StartingPosition.trimHorizon()));
        CompletableFuture<RecordsWithSplitIds<KinesisRecord>> fetch =
                CompletableFuture.supplyAsync(reader::fetch);
        Thread.sleep(100);
        assertFalse(fetch.isDone());
        reader.wakeUp();
        RecordsWithSplitIds<KinesisRecord> batch = fetch.get(2, TimeUnit.SECONDS);
        assertEquals(null, batch.nextSplit());
    }
}
