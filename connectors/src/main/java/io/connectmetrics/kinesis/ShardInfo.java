package io.connectmetrics.kinesis;

import java.util.ArrayList;
import java.util.List;

/**
 * A shard as listed by ListShards.
 *
 * @param shardId the shard id
 * @param parentShardId the parent (after a split or a merge), or null
 * @param adjacentParentShardId the second parent after a merge, or null
 * @param closed whether the shard has an ending sequence number (no longer written to)
 */
public record ShardInfo(
        String shardId, String parentShardId, String adjacentParentShardId, boolean closed) {

    public ShardInfo {
        if (shardId == null || shardId.isEmpty()) {
            throw new IllegalArgumentException("shardId must not be empty");
        }
    }

    public List<String> parentShardIds() {
        List<String> parents = new ArrayList<>(2);
        if (parentShardId != null && !parentShardId.isEmpty()) {
            parents.add(parentShardId);
        }
        if (adjacentParentShardId != null && !adjacentParentShardId.isEmpty()) {
            parents.add(adjacentParentShardId);
        }
        return parents;
    }
}
