package io.connectmetrics.kinesis;

import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.connector.base.source.reader.SingleThreadMultiplexSourceReaderBase;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.types.Row;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Source reader: one fetcher thread polls all of this reader's shards.
 *
 * <p>When a shard is read to its end the reader tells the enumerator ({@link
 * ShardsFinishedEvent}) so that the shard's children can be assigned, and keeps a finished marker
 * for the shard in its checkpoints until the enumerator confirms ({@link
 * FinishedShardsCommittedEvent}) that a completed checkpoint of its own records the shard as
 * finished. A marker restored from a checkpoint is reported again, never read again. That way
 * neither side's restore can lose the fact that a parent shard is done.
 */
final class KinesisShardSourceReader
        extends SingleThreadMultiplexSourceReaderBase<
                KinesisRecord, Row, KinesisShardSplit, KinesisShardSplitState> {

    private static final Logger LOG = LoggerFactory.getLogger(KinesisShardSourceReader.class);

    private final Map<String, KinesisShardSplit> finishedMarkers = new TreeMap<>();
    private boolean started;

    KinesisShardSourceReader(
            Supplier<SplitReader<KinesisRecord, KinesisShardSplit>> splitReaderSupplier,
            KinesisRecordEmitter recordEmitter,
            SourceReaderContext context) {
        super(splitReaderSupplier, recordEmitter, context.getConfiguration(), context);
    }

    @Override
    public void start() {
        started = true;
        reportFinished(new ArrayList<>(finishedMarkers.keySet()));
        super.start();
    }

    @Override
    public void addSplits(List<KinesisShardSplit> splits) {
        List<KinesisShardSplit> toRead = new ArrayList<>(splits.size());
        List<String> restoredFinished = new ArrayList<>();
        for (KinesisShardSplit split : splits) {
            if (split.isFinished()) {
                finishedMarkers.put(split.shardId(), split);
                restoredFinished.add(split.shardId());
            } else {
                toRead.add(split);
            }
        }
        if (started) {
            reportFinished(restoredFinished);
        }
        if (!toRead.isEmpty()) {
            super.addSplits(toRead);
        }
    }

    @Override
    protected void onSplitFinished(Map<String, KinesisShardSplitState> finishedSplits) {
        List<String> shardIds = new ArrayList<>(finishedSplits.size());
        finishedSplits.forEach(
                (shardId, state) -> {
                    finishedMarkers.put(shardId, state.toFinishedMarker());
                    shardIds.add(shardId);
                });
        reportFinished(shardIds);
    }

    @Override
    public List<KinesisShardSplit> snapshotState(long checkpointId) {
        List<KinesisShardSplit> state = new ArrayList<>(super.snapshotState(checkpointId));
        state.addAll(finishedMarkers.values());
        return state;
    }

    @Override
    public void handleSourceEvents(SourceEvent event) {
        if (event instanceof FinishedShardsCommittedEvent) {
            for (String shardId : ((FinishedShardsCommittedEvent) event).shardIds()) {
                finishedMarkers.remove(shardId);
            }
        } else {
            super.handleSourceEvents(event);
        }
    }

    @Override
    protected KinesisShardSplitState initializedState(KinesisShardSplit split) {
        return new KinesisShardSplitState(split);
    }

    @Override
    protected KinesisShardSplit toSplitType(String splitId, KinesisShardSplitState state) {
        return state.toSplit();
    }

    /** Shard ids whose finished marker is still kept (for tests). */
    List<String> finishedMarkerIds() {
        return new ArrayList<>(finishedMarkers.keySet());
    }

    private void reportFinished(List<String> shardIds) {
        if (shardIds.isEmpty()) {
            return;
        }
        LOG.info("Reporting finished shard(s) {} to the enumerator", shardIds);
        context.sendSourceEventToCoordinator(new ShardsFinishedEvent(shardIds));
    }
}
