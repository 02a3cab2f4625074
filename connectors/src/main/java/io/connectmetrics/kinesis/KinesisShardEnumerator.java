package io.connectmetrics.kinesis;

import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.metrics.Gauge;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Lists the stream's shards at start and every discovery interval and hands each shard to one
 * reader.
 *
 * <p>Owner: a shard goes to reader {@link #ownerOf(String, int)}, a function of the shard id and
 * the parallelism only, and waits until that reader has registered. Resharding: a shard is handed
 * out only once each of its parents has been reported finished by a reader, or is neither
 * tracked nor listed any more (expired past the stream's retention). Shards found by the first
 * listing of a fresh start are read from the configured initial position; shards found later are
 * read from TRIM_HORIZON so that nothing written to them is skipped.
 */
final class KinesisShardEnumerator
        implements SplitEnumerator<KinesisShardSplit, KinesisEnumeratorState> {

    private static final Logger LOG = LoggerFactory.getLogger(KinesisShardEnumerator.class);

    static final long DEFAULT_UNREACHABLE_AT_START_MILLIS = Duration.ofMinutes(2).toMillis();

    private final SplitEnumeratorContext<KinesisShardSplit> context;
    private final KinesisSourceConfig config;
    private final KinesisClientFactory clientFactory;
    private final long unreachableAtStartMillis;

    private final Set<String> assigned;
    private final Set<String> finished;
    private final Map<String, KinesisShardSplit> unassigned = new TreeMap<>();
    private boolean initialDiscoveryDone;

    /** The latest successful listing since this enumerator started; null before the first. */
    private Map<String, ShardInfo> listing;

    /** Finished shards a reader still keeps a marker for, and which reader that is. */
    private final Map<String, Integer> finishedReportedBy = new HashMap<>();

    /** Per checkpoint taken: the finished shards (and their reporters) it includes. */
    private final TreeMap<Long, Map<String, Integer>> reportedInCheckpoint = new TreeMap<>();

    private KinesisShardClient client;
    private long firstListingFailureAt = -1L;
    private int listingFailures;

    KinesisShardEnumerator(
            SplitEnumeratorContext<KinesisShardSplit> context,
            KinesisSourceConfig config,
            KinesisClientFactory clientFactory,
            KinesisEnumeratorState state,
            long unreachableAtStartMillis) {
        this.context = context;
        this.config = config;
        this.clientFactory = clientFactory;
        this.unreachableAtStartMillis = unreachableAtStartMillis;
        this.assigned = new TreeSet<>(state.assignedShardIds());
        this.finished = new TreeSet<>(state.finishedShardIds());
        for (KinesisShardSplit split : state.unassignedSplits()) {
            unassigned.put(split.shardId(), split);
        }
        this.initialDiscoveryDone = state.initialDiscoveryDone();
    }

    @Override
    public void start() {
        LOG.info("Starting Kinesis shard enumerator: {}", config);
        client = clientFactory.create(config, true);
        context.metricGroup().gauge("assignedShards", (Gauge<Integer>) assigned::size);
        context.metricGroup().gauge("finishedShards", (Gauge<Integer>) finished::size);
        context.metricGroup().gauge("unassignedShards", (Gauge<Integer>) unassigned::size);
        context.callAsync(
                this::listShards,
                this::onShardsListed,
                0L,
                config.shardDiscoveryIntervalMillis());
    }

    /** Runs on the coordinator's worker thread. */
    List<ShardInfo> listShards() {
        return client.listShards(config.streamName());
    }

    /** Runs on the coordinator thread. */
    void onShardsListed(List<ShardInfo> shards, Throwable error) {
        if (error != null) {
            onListingFailed(error);
            return;
        }
        if (listingFailures > 0) {
            LOG.info("Listing the shards of {} works again", config.describeStream());
        }
        listingFailures = 0;
        firstListingFailureAt = -1L;

        Map<String, ShardInfo> latest = new TreeMap<>();
        for (ShardInfo shard : shards) {
            latest.put(shard.shardId(), shard);
        }
        listing = latest;

        StartingPosition forNewShards =
                initialDiscoveryDone
                        ? StartingPosition.trimHorizon()
                        : config.initialPosition();
        List<String> found = new ArrayList<>();
        for (ShardInfo shard : latest.values()) {
            String id = shard.shardId();
            if (assigned.contains(id) || finished.contains(id) || unassigned.containsKey(id)) {
                continue;
            }
            unassigned.put(id, new KinesisShardSplit(id, shard.parentShardIds(), forNewShards));
            found.add(id);
        }
        if (!found.isEmpty()) {
            LOG.info(
                    "Found shard(s) {} of {}, to be read from {}",
                    found,
                    config.describeStream(),
                    forNewShards);
        }
        initialDiscoveryDone = true;

        // Shards gone from the listing are past retention: forget them.
        finished.removeIf(id -> !latest.containsKey(id));
        for (Iterator<String> it = unassigned.keySet().iterator(); it.hasNext(); ) {
            String id = it.next();
            if (!latest.containsKey(id)) {
                LOG.warn(
                        "Shard {} of {} expired before it could be read",
                        id,
                        config.describeStream());
                it.remove();
            }
        }
        assignPending();
    }

    private void onListingFailed(Throwable error) {
        KinesisClientException failure = findClientException(error);
        if (failure == null) {
            throw new KinesisSourceException(
                    "listing the shards of " + config.describeStream() + " failed: " + error,
                    error);
        }
        if (!failure.kind().isRetryable()) {
            throw config.fatal(failure);
        }
        long now = System.currentTimeMillis();
        listingFailures++;
        if (firstListingFailureAt < 0) {
            firstListingFailureAt = now;
        }
        if (listing == null && now - firstListingFailureAt > unreachableAtStartMillis) {
            throw config.gaveUp(
                    "Listing the shards",
                    Duration.ofMillis(now - firstListingFailureAt),
                    listingFailures,
                    failure);
        }
        LOG.warn(
                "Listing the shards of {} failed (attempt {}), trying again in {} ms: {}",
                config.describeStream(),
                listingFailures,
                config.shardDiscoveryIntervalMillis(),
                failure.getMessage());
    }

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {
        // Shards are pushed to their owners; nothing to do on request.
    }

    @Override
    public void addSplitsBack(List<KinesisShardSplit> splits, int subtaskId) {
        if (splits.isEmpty()) {
            return;
        }
        for (KinesisShardSplit split : splits) {
            if (finished.contains(split.shardId())) {
                continue;
            }
            assigned.remove(split.shardId());
            unassigned.put(split.shardId(), split);
        }
        LOG.info("Reader {} gave back shard(s) {}", subtaskId, splits);
        assignPending();
    }

    @Override
    public void addReader(int subtaskId) {
        assignPending();
    }

    @Override
    public void handleSourceEvent(int subtaskId, SourceEvent sourceEvent) {
        if (!(sourceEvent instanceof ShardsFinishedEvent)) {
            LOG.warn("Ignoring unknown event {} from reader {}", sourceEvent, subtaskId);
            return;
        }
        List<String> shardIds = ((ShardsFinishedEvent) sourceEvent).shardIds();
        LOG.info("Reader {} finished shard(s) {}", subtaskId, shardIds);
        for (String id : shardIds) {
            assigned.remove(id);
            unassigned.remove(id);
            finished.add(id);
            finishedReportedBy.put(id, subtaskId);
        }
        assignPending();
    }

    @Override
    public KinesisEnumeratorState snapshotState(long checkpointId) {
        if (!finishedReportedBy.isEmpty()) {
            reportedInCheckpoint.put(checkpointId, new HashMap<>(finishedReportedBy));
        }
        return new KinesisEnumeratorState(
                assigned, finished, unassigned.values(), initialDiscoveryDone);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        SortedMap<Long, Map<String, Integer>> completed =
                reportedInCheckpoint.headMap(checkpointId, true);
        if (completed.isEmpty()) {
            return;
        }
        Map<Integer, List<String>> bySubtask = new TreeMap<>();
        for (Map<String, Integer> reported : completed.values()) {
            reported.forEach(
                    (shardId, subtask) -> {
                        if (finishedReportedBy.remove(shardId, subtask)) {
                            bySubtask.computeIfAbsent(subtask, k -> new ArrayList<>()).add(shardId);
                        }
                    });
        }
        completed.clear();
        Set<Integer> registered = context.registeredReaders().keySet();
        bySubtask.forEach(
                (subtask, shardIds) -> {
                    if (registered.contains(subtask)) {
                        context.sendEventToSourceReader(
                                subtask, new FinishedShardsCommittedEvent(shardIds));
                    }
                });
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
    }

    private void assignPending() {
        if (listing == null || unassigned.isEmpty()) {
            return;
        }
        int parallelism = context.currentParallelism();
        Set<Integer> registered = context.registeredReaders().keySet();
        Map<Integer, List<KinesisShardSplit>> assignment = new TreeMap<>();
        for (Iterator<KinesisShardSplit> it = unassigned.values().iterator(); it.hasNext(); ) {
            KinesisShardSplit split = it.next();
            if (!parentsDone(split)) {
                continue;
            }
            int owner = ownerOf(split.shardId(), parallelism);
            if (!registered.contains(owner)) {
                continue;
            }
            assignment.computeIfAbsent(owner, k -> new ArrayList<>()).add(split);
            assigned.add(split.shardId());
            it.remove();
        }
        if (!assignment.isEmpty()) {
            LOG.info("Assigning shards of {}: {}", config.describeStream(), assignment);
            context.assignSplits(new SplitsAssignment<>(assignment));
        }
    }

    private boolean parentsDone(KinesisShardSplit split) {
        for (String parent : split.parentShardIds()) {
            if (finished.contains(parent)) {
                continue;
            }
            if (assigned.contains(parent)
                    || unassigned.containsKey(parent)
                    || listing.containsKey(parent)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The reader that owns a shard: the numeric suffix of a standard shard id ({@code
     * shardId-000000000007}) modulo the parallelism, so shards spread evenly; other ids use a
     * fixed hash of the id.
     */
    static int ownerOf(String shardId, int parallelism) {
        if (parallelism <= 0) {
            throw new IllegalArgumentException("parallelism must be positive");
        }
        String suffix = shardId.substring(shardId.lastIndexOf('-') + 1);
        if (!suffix.isEmpty() && suffix.length() <= 18 && suffix.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return (int) (Long.parseLong(suffix) % parallelism);
        }
        return Math.floorMod(mix(shardId.hashCode()), parallelism);
    }

    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    private static KinesisClientException findClientException(Throwable error) {
        Set<Throwable> seen = new LinkedHashSet<>();
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof KinesisClientException) {
                return (KinesisClientException) t;
            }
        }
        return null;
    }

    // ---- for tests ----

    Set<String> assignedShardIds() {
        return Set.copyOf(assigned);
    }

    Set<String> finishedShardIds() {
        return Set.copyOf(finished);
    }

    Set<String> unassignedShardIds() {
        return Set.copyOf(unassigned.keySet());
    }
}
