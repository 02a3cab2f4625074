package io.connectmetrics.kinesis;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** In-memory Kinesis stream with scripted failures, for tests. Not thread-safe beyond synchronized. */
final class FakeKinesisClient implements KinesisShardClient {

    static final class FakeShard {
        final ShardInfo info;
        final List<KinesisRecord> records = new ArrayList<>();
        boolean closed;

        FakeShard(ShardInfo info) {
            this.info = info;
            this.closed = info.closed();
        }
    }

    private final String streamName;
    private final Map<String, FakeShard> shards = new LinkedHashMap<>();
    private final Deque<KinesisClientException.Kind> getRecordsFailures = new ArrayDeque<>();
    private final Deque<KinesisClientException.Kind> getIteratorFailures = new ArrayDeque<>();
    private KinesisClientException listFailure;
    private long sequence = 1000;
    private int iteratorGeneration;

    final List<String> getShardIteratorCalls = new ArrayList<>();
    final List<Integer> getRecordsLimits = new ArrayList<>();
    boolean closed;

    FakeKinesisClient(String streamName) {
        this.streamName = streamName;
    }

    synchronized FakeKinesisClient shard(String id, String... parents) {
        String parent = parents.length > 0 ? parents[0] : null;
        String adjacent = parents.length > 1 ? parents[1] : null;
        shards.put(id, new FakeShard(new ShardInfo(id, parent, adjacent, false)));
        return this;
    }

    synchronized FakeKinesisClient put(String shardId, String... payloads) {
        for (String payload : payloads) {
            put(shardId, payload.getBytes(StandardCharsets.UTF_8));
        }
        return this;
    }

    synchronized FakeKinesisClient put(String shardId, byte[] data) {
        FakeShard shard = shards.get(shardId);
        if (shard.closed) {
            throw new IllegalStateException("closed shard");
        }
        sequence += 7;
        String seq = String.format("%030d", sequence);
        shard.records.add(new KinesisRecord(seq, 1_700_000_000_000L + sequence, data));
        return this;
    }

    synchronized FakeKinesisClient close(String shardId) {
        FakeShard shard = shards.get(shardId);
        shard.closed = true;
        return this;
    }

    synchronized void failNextGetRecords(KinesisClientException.Kind kind, int times) {
        for (int i = 0; i < times; i++) {
            getRecordsFailures.add(kind);
        }
    }

    synchronized void failNextGetShardIterator(KinesisClientException.Kind kind, int times) {
        for (int i = 0; i < times; i++) {
            getIteratorFailures.add(kind);
        }
    }

    synchronized void failListing(KinesisClientException failure) {
        listFailure = failure;
    }

    /** Every iterator handed out so far stops working. */
    synchronized void expireIterators() {
        iteratorGeneration++;
    }

    @Override
    public synchronized List<ShardInfo> listShards(String stream) {
        check(stream);
        if (listFailure != null) {
            throw listFailure;
        }
        List<ShardInfo> result = new ArrayList<>();
        for (FakeShard shard : shards.values()) {
            result.add(
                    new ShardInfo(
                            shard.info.shardId(),
                            shard.info.parentShardId(),
                            shard.info.adjacentParentShardId(),
                            shard.closed));
        }
        return result;
    }

    @Override
    public synchronized String getShardIterator(
            String stream, String shardId, StartingPosition position) {
        check(stream);
        getShardIteratorCalls.add(shardId + "@" + position);
        if (!getIteratorFailures.isEmpty()) {
            throw scripted(getIteratorFailures.poll());
        }
        FakeShard shard = shards.get(shardId);
        if (shard == null) {
            throw new KinesisClientException(
                    KinesisClientException.Kind.SHARD_NOT_FOUND, "no shard " + shardId);
        }
        int index;
        switch (position.type()) {
            case TRIM_HORIZON:
                index = 0;
                break;
            case LATEST:
                index = shard.records.size();
                break;
            case AT_TIMESTAMP:
                index = 0;
                while (index < shard.records.size()
                        && shard.records.get(index).approximateArrivalMillis()
                                < position.timestampMillis()) {
                    index++;
                }
                break;
            case AFTER_SEQUENCE_NUMBER:
                BigInteger after = new BigInteger(position.sequenceNumber());
                index = 0;
                while (index < shard.records.size()
                        && new BigInteger(shard.records.get(index).sequenceNumber())
                                        .compareTo(after)
                                <= 0) {
                    index++;
                }
                break;
            default:
                throw new IllegalArgumentException();
        }
        return iterator(shardId, index);
    }

    @Override
    public synchronized GetRecordsResult getRecords(String shardIterator, int limit) {
        getRecordsLimits.add(limit);
        if (!getRecordsFailures.isEmpty()) {
            throw scripted(getRecordsFailures.poll());
        }
        String[] parts = shardIterator.split("\\|");
        if (Integer.parseInt(parts[3]) != iteratorGeneration) {
            throw new KinesisClientException(
                    KinesisClientException.Kind.EXPIRED_ITERATOR, "iterator expired");
        }
        FakeShard shard = shards.get(parts[1]);
        int index = Integer.parseInt(parts[2]);
        int end = Math.min(shard.records.size(), index + limit);
        List<KinesisRecord> records = new ArrayList<>(shard.records.subList(index, end));
        String next =
                shard.closed && end >= shard.records.size() ? null : iterator(parts[1], end);
        long behind = shard.records.size() > end ? 5_000L : 0L;
        return new GetRecordsResult(records, next, behind);
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    synchronized List<KinesisRecord> records(String shardId) {
        return List.copyOf(shards.get(shardId).records);
    }

    private static KinesisClientException scripted(KinesisClientException.Kind kind) {
        return new KinesisClientException(kind, "scripted " + kind);
    }

    private String iterator(String shardId, int index) {
        return "it|" + shardId + "|" + index + "|" + iteratorGeneration;
    }

    private void check(String stream) {
        if (!streamName.equals(stream)) {
            throw new KinesisClientException(
                    KinesisClientException.Kind.STREAM_NOT_FOUND,
                    "Stream " + stream + " under account 000000000000 not found.");
        }
    }
}
