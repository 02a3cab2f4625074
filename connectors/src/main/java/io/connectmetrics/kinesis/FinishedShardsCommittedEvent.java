package io.connectmetrics.kinesis;

import org.apache.flink.api.connector.source.SourceEvent;

import java.util.List;

/**
 * Enumerator to reader: a completed checkpoint records these shards as finished in the
 * enumerator's state, so the reader may drop them from its own.
 */
public final class FinishedShardsCommittedEvent implements SourceEvent {

    private static final long serialVersionUID = 1L;

    private final List<String> shardIds;

    public FinishedShardsCommittedEvent(List<String> shardIds) {
        this.shardIds = List.copyOf(shardIds);
    }

    public List<String> shardIds() {
        return shardIds;
    }

    @Override
    public String toString() {
        return "FinishedShardsCommittedEvent" + shardIds;
    }
}
