package io.connectmetrics.kinesis;

/** Mutable per-split state of a reader: the split plus the last sequence number emitted. */
final class KinesisShardSplitState {

    private final KinesisShardSplit split;
    private String lastEmittedSequenceNumber;

    /**
     * A LATEST split is checkpointed as AT_TIMESTAMP of the moment the reader took it: LATEST
     * again after a restore would skip what arrived in between, while this re-reads at most the
     * records that arrived just before the reader started (at-least-once).
     */
    KinesisShardSplitState(KinesisShardSplit split) {
        this(split, System.currentTimeMillis());
    }

    KinesisShardSplitState(KinesisShardSplit split, long nowMillis) {
        this.split =
                split.startingPosition().type() == StartingPosition.Type.LATEST
                        ? split.withStartingPosition(StartingPosition.atTimestamp(nowMillis))
                        : split;
    }

    String shardId() {
        return split.shardId();
    }

    void setLastEmittedSequenceNumber(String sequenceNumber) {
        this.lastEmittedSequenceNumber = sequenceNumber;
    }

    String lastEmittedSequenceNumber() {
        return lastEmittedSequenceNumber;
    }

    /** The split to checkpoint: resumes after the last emitted record, if there was one. */
    KinesisShardSplit toSplit() {
        if (lastEmittedSequenceNumber == null) {
            return split;
        }
        return split.withStartingPosition(
                StartingPosition.afterSequenceNumber(lastEmittedSequenceNumber));
    }

    KinesisShardSplit toFinishedMarker() {
        return toSplit().asFinished();
    }
}
