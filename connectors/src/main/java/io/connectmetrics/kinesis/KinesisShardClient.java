package io.connectmetrics.kinesis;

import java.util.List;

/**
 * The three Kinesis calls the source makes. Implementations translate every failure into a
 * {@link KinesisClientException} whose {@link KinesisClientException.Kind} tells the caller
 * whether to retry, to re-create the iterator or to give up.
 */
public interface KinesisShardClient extends AutoCloseable {

    /** All shards of the stream (every page of ListShards). */
    List<ShardInfo> listShards(String streamName);

    /** A shard iterator for the shard at the given position. */
    String getShardIterator(String streamName, String shardId, StartingPosition position);

    /** At most {@code limit} records from the iterator's position. */
    GetRecordsResult getRecords(String shardIterator, int limit);

    @Override
    void close();
}
