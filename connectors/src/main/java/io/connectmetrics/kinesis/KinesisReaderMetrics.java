package io.connectmetrics.kinesis;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Metrics of one source reader, registered once on its metric group and shared by the split
 * readers it creates over time.
 *
 * <ul>
 *   <li>{@code kinesisRecordsRead}: records received from GetRecords;
 *   <li>{@code kinesisRetries}: failed calls that were retried (throttling, 5xx, network);
 *   <li>{@code kinesisExpiredIterators}: iterators that expired and were re-created;
 *   <li>{@code millisBehindLatest}: the largest MillisBehindLatest over the reader's shards;
 *   <li>{@code assignedShards}: shards the reader is currently reading.
 * </ul>
 */
final class KinesisReaderMetrics {

    private final Counter recordsRead;
    private final Counter retries;
    private final Counter expiredIterators;
    private final Map<String, Long> millisBehindByShard = new ConcurrentHashMap<>();

    KinesisReaderMetrics(MetricGroup group) {
        this.recordsRead = group.counter("kinesisRecordsRead", new ThreadSafeSimpleCounter());
        this.retries = group.counter("kinesisRetries", new ThreadSafeSimpleCounter());
        this.expiredIterators =
                group.counter("kinesisExpiredIterators", new ThreadSafeSimpleCounter());
        group.gauge("millisBehindLatest", (Gauge<Long>) this::maxMillisBehindLatest);
        group.gauge("assignedShards", (Gauge<Integer>) millisBehindByShard::size);
    }

    static KinesisReaderMetrics unregistered() {
        return new KinesisReaderMetrics(new UnregisteredMetricsGroup());
    }

    void shardAdded(String shardId) {
        millisBehindByShard.putIfAbsent(shardId, -1L);
    }

    void shardRemoved(String shardId) {
        millisBehindByShard.remove(shardId);
    }

    void recordsRead(int count) {
        recordsRead.inc(count);
    }

    void retried() {
        retries.inc();
    }

    void iteratorExpired() {
        expiredIterators.inc();
    }

    void millisBehindLatest(String shardId, Long millis) {
        if (millis != null) {
            millisBehindByShard.replace(shardId, millis);
        }
    }

    long maxMillisBehindLatest() {
        long max = 0L;
        for (long value : millisBehindByShard.values()) {
            max = Math.max(max, value);
        }
        return max;
    }

    long recordsReadCount() {
        return recordsRead.getCount();
    }

    long retryCount() {
        return retries.getCount();
    }

    long expiredIteratorCount() {
        return expiredIterators.getCount();
    }
}
