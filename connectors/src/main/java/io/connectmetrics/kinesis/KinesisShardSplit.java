package io.connectmetrics.kinesis;

import org.apache.flink.api.connector.source.SourceSplit;

import java.util.List;
import java.util.Objects;

/**
 * One Kinesis shard and the position to read it from.
 *
 * <p>A split with {@code finished == true} is a marker kept in a reader's checkpoint for a shard
 * whose end was reached but whose completion the enumerator has not yet durably recorded; it is
 * never read again, only reported again after a restore.
 */
public final class KinesisShardSplit implements SourceSplit {

    private final String shardId;
    private final List<String> parentShardIds;
    private final StartingPosition startingPosition;
    private final boolean finished;

    public KinesisShardSplit(
            String shardId,
            List<String> parentShardIds,
            StartingPosition startingPosition,
            boolean finished) {
        this.shardId = Objects.requireNonNull(shardId, "shardId");
        this.parentShardIds = List.copyOf(parentShardIds);
        this.startingPosition = Objects.requireNonNull(startingPosition, "startingPosition");
        this.finished = finished;
    }

    public KinesisShardSplit(
            String shardId, List<String> parentShardIds, StartingPosition startingPosition) {
        this(shardId, parentShardIds, startingPosition, false);
    }

    @Override
    public String splitId() {
        return shardId;
    }

    public String shardId() {
        return shardId;
    }

    public List<String> parentShardIds() {
        return parentShardIds;
    }

    public StartingPosition startingPosition() {
        return startingPosition;
    }

    public boolean isFinished() {
        return finished;
    }

    public KinesisShardSplit withStartingPosition(StartingPosition position) {
        return new KinesisShardSplit(shardId, parentShardIds, position, finished);
    }

    public KinesisShardSplit asFinished() {
        return new KinesisShardSplit(shardId, parentShardIds, startingPosition, true);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof KinesisShardSplit)) {
            return false;
        }
        KinesisShardSplit that = (KinesisShardSplit) o;
        return finished == that.finished
                && shardId.equals(that.shardId)
                && parentShardIds.equals(that.parentShardIds)
                && startingPosition.equals(that.startingPosition);
    }

    @Override
    public int hashCode() {
        return Objects.hash(shardId, parentShardIds, startingPosition, finished);
    }

    @Override
    public String toString() {
        return "KinesisShardSplit{"
                + shardId
                + (parentShardIds.isEmpty() ? "" : ", parents=" + parentShardIds)
                + ", from="
                + startingPosition
                + (finished ? ", finished" : "")
                + '}';
    }
}
