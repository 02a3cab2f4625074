package io.connectmetrics.kinesis;

import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;

/** Single-threaded {@link SplitEnumeratorContext}: async calls run when the test says so. */
final class TestingEnumeratorContext implements SplitEnumeratorContext<KinesisShardSplit> {

    private final int parallelism;
    private final Map<Integer, ReaderInfo> readers = new TreeMap<>();
    final Map<Integer, List<KinesisShardSplit>> assigned = new TreeMap<>();
    final List<Map.Entry<Integer, SourceEvent>> eventsToReaders = new ArrayList<>();
    private final List<Runnable> periodic = new ArrayList<>();

    TestingEnumeratorContext(int parallelism) {
        this.parallelism = parallelism;
    }

    void registerReader(int subtask) {
        readers.put(subtask, new ReaderInfo(subtask, "localhost"));
    }

    void unregisterReader(int subtask) {
        readers.remove(subtask);
    }

    /** Runs every periodic async call once (callable then handler), like one discovery round. */
    void runPeriodicCalls() {
        for (Runnable call : List.copyOf(periodic)) {
            call.run();
        }
    }

    List<String> assignedTo(int subtask) {
        List<String> ids = new ArrayList<>();
        for (KinesisShardSplit split : assigned.getOrDefault(subtask, List.of())) {
            ids.add(split.shardId());
        }
        return ids;
    }

    List<String> allAssignedIds() {
        List<String> ids = new ArrayList<>();
        assigned.values().forEach(splits -> splits.forEach(s -> ids.add(s.shardId())));
        return ids;
    }

    KinesisShardSplit assignedSplit(String shardId) {
        for (List<KinesisShardSplit> splits : assigned.values()) {
            for (KinesisShardSplit split : splits) {
                if (split.shardId().equals(shardId)) {
                    return split;
                }
            }
        }
        return null;
    }

    @Override
    public SplitEnumeratorMetricGroup metricGroup() {
        return UnregisteredMetricsGroup.createSplitEnumeratorMetricGroup();
    }

    @Override
    public void sendEventToSourceReader(int subtaskId, SourceEvent event) {
        eventsToReaders.add(Map.entry(subtaskId, event));
    }

    @Override
    public int currentParallelism() {
        return parallelism;
    }

    @Override
    public Map<Integer, ReaderInfo> registeredReaders() {
        return new TreeMap<>(readers);
    }

    @Override
    public void assignSplits(SplitsAssignment<KinesisShardSplit> newSplitAssignments) {
        newSplitAssignments
                .assignment()
                .forEach(
                        (subtask, splits) ->
                                assigned.computeIfAbsent(subtask, k -> new ArrayList<>())
                                        .addAll(splits));
    }

    @Override
    public void signalNoMoreSplits(int subtask) {
        throw new AssertionError("an unbounded source never signals no more splits");
    }

    @Override
    public <T> void callAsync(Callable<T> callable, BiConsumer<T, Throwable> handler) {
        run(callable, handler);
    }

    @Override
    public <T> void callAsync(
            Callable<T> callable,
            BiConsumer<T, Throwable> handler,
            long initialDelayMillis,
            long periodMillis) {
        periodic.add(() -> run(callable, handler));
    }

    @Override
    public void runInCoordinatorThread(Runnable runnable) {
        runnable.run();
    }

    private static <T> void run(Callable<T> callable, BiConsumer<T, Throwable> handler) {
        T result;
        try {
            result = callable.call();
        } catch (Throwable t) {
            handler.accept(null, t);
            return;
        }
        handler.accept(result, null);
    }
}
