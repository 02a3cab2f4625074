package io.connectmetrics.kinesis;

/** Mutable per-split state of a reader: the split plus the last sequence number emitted. */
final class KinesisShardSplitState {

    private final KinesisShardSplit split;
    private String lastEmittedSequenceNumber;

    KinesisShardSplitState(KinesisShardSplit split) {
        this.split = split;
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
