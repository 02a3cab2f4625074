package io.connectmetrics.kinesis;

import org.apache.flink.connector.base.source.reader.RecordsBySplits;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsChange;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsRemoval;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Polls the shards assigned to one reader, on the reader's fetcher thread.
 *
 * <p>Shards are visited round-robin; each visit makes at most one GetRecords call of at most
 * {@code maxRecordsPerPoll} records. A shard that is caught up is next polled after {@code
 * pollIntervalMillis}; one that is behind after at most {@link #MIN_GAP_WHEN_BEHIND_MILLIS} (the
 * GetRecords quota is five calls per second per shard). Failed calls keep the shard's position:
 * throttling and transient failures are retried with bounded exponential backoff, an expired
 * iterator is re-created after the last record read, and failures that retrying cannot fix throw
 * a {@link KinesisSourceException} that fails the job. A shard that is caught up and has
 * handed nothing over for {@code idleClockMillis} hands over a clock record.
 */
final class KinesisShardSplitReader implements SplitReader<KinesisRecord, KinesisShardSplit> {

    private static final Logger LOG = LoggerFactory.getLogger(KinesisShardSplitReader.class);

    static final long MIN_GAP_WHEN_BEHIND_MILLIS = 200L;
    static final long DEFAULT_MAX_TRANSIENT_FAILURE_MILLIS = Duration.ofMinutes(5).toMillis();

    private final KinesisSourceConfig config;
    private final KinesisShardClient client;
    private final KinesisReaderMetrics metrics;
    private final Backoff backoff;
    private final long maxTransientFailureMillis;

    /** Insertion order is the polling order; a polled shard moves to the back. */
    private final LinkedHashMap<String, ShardCursor> cursors = new LinkedHashMap<>();

    private final Object wakeLock = new Object();
    private boolean wokenUp;

    KinesisShardSplitReader(
            KinesisSourceConfig config, KinesisShardClient client, KinesisReaderMetrics metrics) {
        this(config, client, metrics, new Backoff(100L, 10_000L),
                DEFAULT_MAX_TRANSIENT_FAILURE_MILLIS);
    }

    KinesisShardSplitReader(
            KinesisSourceConfig config,
            KinesisShardClient client,
            KinesisReaderMetrics metrics,
            Backoff backoff,
            long maxTransientFailureMillis) {
        this.config = config;
        this.client = client;
        this.metrics = metrics;
        this.backoff = backoff;
        this.maxTransientFailureMillis = maxTransientFailureMillis;
    }

    @Override
    public RecordsWithSplitIds<KinesisRecord> fetch() {
        while (true) {
            if (consumeWakeUp()) {
                return empty();
            }
            if (cursors.isEmpty()) {
                waitUntil(now() + Math.max(config.pollIntervalMillis(), 10L));
                return empty();
            }
            long now = now();
            ShardCursor due = null;
            long earliest = Long.MAX_VALUE;
            for (ShardCursor cursor : cursors.values()) {
                if (cursor.nextPollAt <= now) {
                    due = cursor;
                    break;
                }
                earliest = Math.min(earliest, cursor.nextPollAt);
            }
            if (due == null) {
                if (!waitUntil(earliest)) {
                    return empty();
                }
                continue;
            }
            cursors.remove(due.shardId());
            cursors.put(due.shardId(), due);
            RecordsWithSplitIds<KinesisRecord> batch = poll(due);
            if (batch != null) {
                return batch;
            }
        }
    }

    /** Polls one shard; returns a batch to hand over, or null if there is nothing to hand over. */
    private RecordsWithSplitIds<KinesisRecord> poll(ShardCursor cursor) {
        try {
            if (cursor.iterator == null) {
                cursor.iterator =
                        client.getShardIterator(
                                config.streamName(), cursor.shardId(), cursor.resumePosition());
                if (cursor.iterator == null) {
                    return finish(cursor, List.of());
                }
            }
            GetRecordsResult result =
                    client.getRecords(cursor.iterator, config.maxRecordsPerPoll());
            cursor.succeeded();
            List<KinesisRecord> records = result.records();
            if (!records.isEmpty()) {
                cursor.lastSequenceNumber = records.get(records.size() - 1).sequenceNumber();
                metrics.recordsRead(records.size());
            }
            cursor.iterator = result.nextShardIterator();
            if (cursor.iterator == null) {
                return finish(cursor, records);
            }
            metrics.millisBehindLatest(cursor.shardId(), result.millisBehindLatest());
            boolean behind =
                    records.size() >= config.maxRecordsPerPoll()
                            || (result.millisBehindLatest() != null
                                    && result.millisBehindLatest() > 0);
            long gap =
                    behind
                            ? Math.min(config.pollIntervalMillis(), MIN_GAP_WHEN_BEHIND_MILLIS)
                            : config.pollIntervalMillis();
            long now = now();
            cursor.nextPollAt = now + gap;
            if (records.isEmpty()) {
                if (behind || config.idleClockMillis() == 0
                        || now - cursor.handedOverAt < config.idleClockMillis()) {
                    return null;
                }
                records = List.of(clockRecord());
            }
            cursor.handedOverAt = now;
            RecordsBySplits.Builder<KinesisRecord> batch = new RecordsBySplits.Builder<>();
            batch.addAll(cursor.shardId(), records);
            return batch.build();
        } catch (KinesisClientException e) {
            return onFailure(cursor, e);
        }
    }

    private RecordsWithSplitIds<KinesisRecord> onFailure(
            ShardCursor cursor, KinesisClientException e) {
        long now = now();
        switch (e.kind()) {
            case EXPIRED_ITERATOR:
                cursor.iterator = null;
                cursor.expiries++;
                metrics.iteratorExpired();
                LOG.info(
                        "Shard iterator of {} in {} expired; getting a new one from {}",
                        cursor.shardId(),
                        config.describeStream(),
                        cursor.resumePosition());
                cursor.nextPollAt =
                        cursor.expiries <= 1 ? now : now + backoff.delayMillis(cursor.expiries);
                return null;
            case THROTTLED:
            case TRANSIENT:
                cursor.failures++;
                metrics.retried();
                if (e.kind() == KinesisClientException.Kind.TRANSIENT) {
                    if (cursor.firstTransientFailureAt < 0) {
                        cursor.firstTransientFailureAt = now;
                    } else if (now - cursor.firstTransientFailureAt > maxTransientFailureMillis) {
                        throw config.gaveUp(
                                "Reading shard " + cursor.shardId(),
                                Duration.ofMillis(now - cursor.firstTransientFailureAt),
                                cursor.failures,
                                e);
                    }
                }
                long delay = backoff.delayMillis(cursor.failures);
                if (e.kind() == KinesisClientException.Kind.TRANSIENT
                        || cursor.failures == 1
                        || cursor.failures % 10 == 0) {
                    LOG.warn(
                            "Reading shard {} of {} failed (attempt {}), retrying in {} ms: {}",
                            cursor.shardId(),
                            config.describeStream(),
                            cursor.failures,
                            delay,
                            e.getMessage());
                }
                cursor.nextPollAt = now + delay;
                return null;
            case SHARD_NOT_FOUND:
                LOG.warn(
                        "Shard {} of {} no longer exists (older than the stream's retention);"
                                + " treating it as read to its end",
                        cursor.shardId(),
                        config.describeStream());
                return finish(cursor, List.of());
            default:
                throw config.fatal(e);
        }
    }

    private RecordsWithSplitIds<KinesisRecord> finish(
            ShardCursor cursor, List<KinesisRecord> records) {
        LOG.info(
                "Shard {} of {} read to its end (last sequence number {})",
                cursor.shardId(),
                config.describeStream(),
                cursor.lastSequenceNumber);
        cursors.remove(cursor.shardId());
        metrics.shardRemoved(cursor.shardId());
        RecordsBySplits.Builder<KinesisRecord> batch = new RecordsBySplits.Builder<>();
        if (!records.isEmpty()) {
            batch.addAll(cursor.shardId(), records);
        }
        batch.addFinishedSplit(cursor.shardId());
        return batch.build();
    }

    @Override
    public void handleSplitsChanges(SplitsChange<KinesisShardSplit> splitsChanges) {
        if (splitsChanges instanceof SplitsAddition) {
            for (KinesisShardSplit split : splitsChanges.splits()) {
                if (split.isFinished()) {
                    continue;
                }
                if (cursors.putIfAbsent(split.shardId(), new ShardCursor(split)) == null) {
                    metrics.shardAdded(split.shardId());
                    LOG.info(
                            "Reading shard {} of {} from {}",
                            split.shardId(),
                            config.describeStream(),
                            split.startingPosition());
                }
            }
        } else if (splitsChanges instanceof SplitsRemoval) {
            for (KinesisShardSplit split : splitsChanges.splits()) {
                if (cursors.remove(split.shardId()) != null) {
                    metrics.shardRemoved(split.shardId());
                }
            }
        }
    }

    @Override
    public void wakeUp() {
        synchronized (wakeLock) {
            wokenUp = true;
            wakeLock.notifyAll();
        }
    }

    @Override
    public void close() {
        for (String shardId : cursors.keySet()) {
            metrics.shardRemoved(shardId);
        }
        cursors.clear();
        client.close();
    }

    /** Shard ids in the order they will be considered for the next poll. */
    List<String> pollingOrder() {
        return List.copyOf(cursors.keySet());
    }

    private boolean consumeWakeUp() {
        synchronized (wakeLock) {
            boolean was = wokenUp;
            wokenUp = false;
            return was;
        }
    }

    /** Waits until the deadline or a wake-up; returns false if interrupted. */
    private boolean waitUntil(long deadline) {
        synchronized (wakeLock) {
            try {
                while (!wokenUp) {
                    long remaining = deadline - now();
                    if (remaining <= 0) {
                        break;
                    }
                    wakeLock.wait(remaining);
                }
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private static long now() {
        return System.nanoTime() / 1_000_000L;
    }

    /** A record that only says "nothing new on this shard as of now" (wall clock). */
    static KinesisRecord clockRecord() {
        return new KinesisRecord(null, System.currentTimeMillis(), new byte[0]);
    }

    private static RecordsWithSplitIds<KinesisRecord> empty() {
        return new RecordsBySplits<>(Map.of(), Set.of());
    }

    /** Read position of one shard on the fetcher thread. */
    private static final class ShardCursor {
        final KinesisShardSplit split;
        String iterator;
        String lastSequenceNumber;
        long nextPollAt;
        long handedOverAt = now();
        int failures;
        int expiries;
        long firstTransientFailureAt = -1L;

        ShardCursor(KinesisShardSplit split) {
            this.split = split;
        }

        String shardId() {
            return split.shardId();
        }

        StartingPosition resumePosition() {
            return lastSequenceNumber != null
                    ? StartingPosition.afterSequenceNumber(lastSequenceNumber)
                    : split.startingPosition();
        }

        void succeeded() {
            failures = 0;
            expiries = 0;
            firstTransientFailureAt = -1L;
        }
    }
}
