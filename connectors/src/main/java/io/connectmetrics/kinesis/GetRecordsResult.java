package io.connectmetrics.kinesis;

import java.util.List;

/**
 * The parts of a GetRecords answer the source uses.
 *
 * @param records the records, in shard order
 * @param nextShardIterator iterator for the next call, or null when the closed shard was read to
 *     its end
 * @param millisBehindLatest how far the iterator is behind the shard's tip, or null if unknown
 */
public record GetRecordsResult(
        List<KinesisRecord> records, String nextShardIterator, Long millisBehindLatest) {

    public GetRecordsResult {
        records = List.copyOf(records);
    }
}
