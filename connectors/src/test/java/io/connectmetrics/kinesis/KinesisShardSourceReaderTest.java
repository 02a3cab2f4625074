package io.connectmetrics.kinesis;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.groups.SourceReaderMetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.types.Row;
import org.apache.flink.util.UserCodeClassLoader;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KinesisShardSourceReaderTest {

    private static final String S0 = "shardId-000000000000";
    private static final String S1 = "shardId-000000000001";

    private static final class Context implements SourceReaderContext {
        final List<SourceEvent> sent = new ArrayList<>();

        @Override
        public SourceReaderMetricGroup metricGroup() {
            return UnregisteredMetricsGroup.createSourceReaderMetricGroup();
        }

        @Override
        public Configuration getConfiguration() {
            return new Configuration();
        }

        @Override
        public String getLocalHostName() {
            return "localhost";
        }

        @Override
        public int getIndexOfSubtask() {
            return 0;
        }

        @Override
        public void sendSplitRequest() {}

        @Override
        public synchronized void sendSourceEventToCoordinator(SourceEvent sourceEvent) {
            sent.add(sourceEvent);
        }

        @Override
        public UserCodeClassLoader getUserCodeClassLoader() {
            return new UserCodeClassLoader() {
                @Override
                public ClassLoader asClassLoader() {
                    return getClass().getClassLoader();
                }

                @Override
                public void registerReleaseHookIfAbsent(String name, Runnable hook) {}
            };
        }
    }

    private static final class Output implements ReaderOutput<Row> {
        final List<Row> rows = new ArrayList<>();
        final List<Long> timestamps = new ArrayList<>();

        @Override
        public void collect(Row record) {
            rows.add(record);
            timestamps.add(null);
        }

        @Override
        public void collect(Row record, long timestamp) {
            rows.add(record);
            timestamps.add(timestamp);
        }

        @Override
        public void emitWatermark(Watermark watermark) {}

        @Override
        public void markIdle() {}

        @Override
        public void markActive() {}

        @Override
        public SourceOutput<Row> createOutputForSplit(String splitId) {
            return this;
        }

        @Override
        public void releaseOutputForSplit(String splitId) {}
    }

    private static KinesisShardSourceReader reader(FakeKinesisClient kinesis, Context context) {
        KinesisSourceConfig config = KinesisShardSource.builder()
                .streamName("agent-events").region("us-east-1").pollIntervalMillis(1)
                .maxRecordsPerPoll(2).build().config();
        KinesisReaderMetrics metrics = KinesisReaderMetrics.unregistered();
        return new KinesisShardSourceReader(
                () -> new KinesisShardSplitReader(config, kinesis, metrics),
                new KinesisRecordEmitter(config.streamName()),
                context);
    }

    /** Polls until {@code count} rows were emitted in total and {@code done} holds. */
    private static void pollUntil(
            KinesisShardSourceReader reader, Output output, int count, java.util.function.BooleanSupplier done)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (output.rows.size() < count || !done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out with " + output.rows.size() + " rows");
            switch (reader.pollNext(output)) {
                case MORE_AVAILABLE:
                    break;
                case NOTHING_AVAILABLE:
                    try {
                        reader.isAvailable().get(20, TimeUnit.MILLISECONDS);
                    } catch (TimeoutException ignored) {
                        // poll again
                    }
                    break;
                default:
                    throw new AssertionError("an unbounded reader never ends");
            }
        }
    }

    private static String payload(Row row) {
        return new String((byte[]) row.getField(4), StandardCharsets.UTF_8);
    }

    @Test
    void emitsRowsOnceAndResumesFromItsCheckpoint() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0).shard(S1);
        kinesis.put(S0, "a0", "a1", "a2");
        kinesis.put(S1, new byte[] {(byte) 0xff, 0x00, (byte) 0x80});
        Context context = new Context();
        Output output = new Output();
        KinesisShardSourceReader reader = reader(kinesis, context);
        reader.start();
        reader.addSplits(List.of(
                new KinesisShardSplit(S0, List.of(), StartingPosition.trimHorizon()),
                new KinesisShardSplit(S1, List.of(), StartingPosition.trimHorizon())));
        pollUntil(reader, output, 4, () -> true);
        assertEquals(4, output.rows.size());

        Row binary = output.rows.stream().filter(r -> S1.equals(r.getField(1))).findFirst().get();
        KinesisRecord written = kinesis.records(S1).get(0);
        assertEquals(5, binary.getArity());
        assertEquals("agent-events", binary.getField(0));
        assertEquals(written.sequenceNumber(), binary.getField(2));
        assertEquals(written.approximateArrivalMillis(), binary.getField(3));
        assertArrayEquals(new byte[] {(byte) 0xff, 0x00, (byte) 0x80}, (byte[]) binary.getField(4));
        assertTrue(output.timestamps.contains(written.approximateArrivalMillis()));

        List<KinesisShardSplit> checkpoint = reader.snapshotState(1L);
        reader.close();
        assertEquals(2, checkpoint.size());
        for (KinesisShardSplit split : checkpoint) {
            assertEquals(StartingPosition.Type.AFTER_SEQUENCE_NUMBER, split.startingPosition().type());
        }

        kinesis.put(S0, "a3");
        kinesis.put(S1, "b1");
        Output resumed = new Output();
        KinesisShardSourceReader restored = reader(kinesis, new Context());
        restored.addSplits(checkpoint);
        restored.start();
        pollUntil(restored, resumed, 2, () -> true);
        Thread.sleep(50);
        pollUntil(restored, resumed, 2, () -> true);
        List<String> payloads = new ArrayList<>();
        resumed.rows.forEach(r -> payloads.add(payload(r)));
        payloads.sort(null);
        assertEquals(List.of("a3", "b1"), payloads);
        restored.close();
    }

    @Test
    void finishedShardIsReportedAndKeptUntilTheEnumeratorCommitsIt() throws Exception {
        FakeKinesisClient kinesis = new FakeKinesisClient("agent-events").shard(S0).shard(S1);
        kinesis.put(S0, "a0", "a1", "a2").close(S0);
        kinesis.put(S1, "b0");
        Context context = new Context();
        Output output = new Output();
        KinesisShardSourceReader reader = reader(kinesis, context);
        reader.start();
        reader.addSplits(List.of(
                new KinesisShardSplit(S0, List.of(), StartingPosition.trimHorizon()),
                new KinesisShardSplit(S1, List.of(), StartingPosition.trimHorizon())));
        pollUntil(reader, output, 4, () -> {
            synchronized (context) {
                return !context.sent.isEmpty();
            }
        });
        assertEquals(List.of(S0),
                assertInstanceOf(ShardsFinishedEvent.class, context.sent.get(0)).shardIds());

        List<KinesisShardSplit> checkpoint = reader.snapshotState(1L);
        KinesisShardSplit marker = checkpoint.stream().filter(KinesisShardSplit::isFinished)
                .findFirst().get();
        assertEquals(S0, marker.shardId());
        assertEquals(2, checkpoint.size());

        // A restored marker is reported again on start and never read again.
        Context restoredContext = new Context();
        Output restoredOutput = new Output();
        KinesisShardSourceReader restored = reader(kinesis, restoredContext);
        restored.addSplits(checkpoint);
        restored.start();
        assertEquals(List.of(S0),
                assertInstanceOf(ShardsFinishedEvent.class, restoredContext.sent.get(0)).shardIds());
        kinesis.put(S1, "b1");
        pollUntil(restored, restoredOutput, 1, () -> true);
        Thread.sleep(50);
        pollUntil(restored, restoredOutput, 1, () -> true);
        assertEquals(List.of("b1"), restoredOutput.rows.stream().map(r -> payload(r)).toList());
        restored.close();

        reader.handleSourceEvents(new FinishedShardsCommittedEvent(List.of(S0)));
        assertEquals(List.of(), reader.finishedMarkerIds());
        assertEquals(1, reader.snapshotState(2L).size());
        reader.close();
    }
}
