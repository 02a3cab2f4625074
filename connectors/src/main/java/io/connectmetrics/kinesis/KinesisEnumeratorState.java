package io.connectmetrics.kinesis;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checkpointed state of the shard enumerator.
 *
 * <ul>
 *   <li>{@code assignedShardIds}: shards handed to a reader and not yet reported finished (their
 *       read position lives in that reader's checkpoint);
 *   <li>{@code finishedShardIds}: shards read to their end;
 *   <li>{@code unassignedSplits}: shards known but not yet handed out (waiting for their parents
 *       or for their reader to register), with the position to start from;
 *   <li>{@code initialDiscoveryDone}: once true, newly found shards are read from TRIM_HORIZON
 *       instead of the configured initial position, so nothing written to them is skipped.
 * </ul>
 */
public final class KinesisEnumeratorState {

    private final Set<String> assignedShardIds;
    private final Set<String> finishedShardIds;
    private final List<KinesisShardSplit> unassignedSplits;
    private final boolean initialDiscoveryDone;

    public KinesisEnumeratorState(
            Collection<String> assignedShardIds,
            Collection<String> finishedShardIds,
            Collection<KinesisShardSplit> unassignedSplits,
            boolean initialDiscoveryDone) {
        this.assignedShardIds = Collections.unmodifiableSet(new TreeSet<>(assignedShardIds));
        this.finishedShardIds = Collections.unmodifiableSet(new TreeSet<>(finishedShardIds));
        this.unassignedSplits = List.copyOf(unassignedSplits);
        this.initialDiscoveryDone = initialDiscoveryDone;
    }

    public static KinesisEnumeratorState empty() {
        return new KinesisEnumeratorState(List.of(), List.of(), List.of(), false);
    }

    public Set<String> assignedShardIds() {
        return assignedShardIds;
    }

    public Set<String> finishedShardIds() {
        return finishedShardIds;
    }

    public List<KinesisShardSplit> unassignedSplits() {
        return unassignedSplits;
    }

    public boolean initialDiscoveryDone() {
        return initialDiscoveryDone;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof KinesisEnumeratorState)) {
            return false;
        }
        KinesisEnumeratorState that = (KinesisEnumeratorState) o;
        return initialDiscoveryDone == that.initialDiscoveryDone
                && assignedShardIds.equals(that.assignedShardIds)
                && finishedShardIds.equals(that.finishedShardIds)
                && unassignedSplits.equals(that.unassignedSplits);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                assignedShardIds, finishedShardIds, unassignedSplits, initialDiscoveryDone);
    }

    @Override
    public String toString() {
        return "KinesisEnumeratorState{assigned="
                + assignedShardIds
                + ", finished="
                + finishedShardIds
                + ", unassigned="
                + unassignedSplits
                + ", initialDiscoveryDone="
                + initialDiscoveryDone
                + '}';
    }
}
