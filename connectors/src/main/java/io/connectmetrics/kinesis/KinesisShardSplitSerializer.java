package io.connectmetrics.kinesis;

import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Versioned binary form of {@link KinesisShardSplit}. */
public final class KinesisShardSplitSerializer implements SimpleVersionedSerializer<KinesisShardSplit> {

    static final int VERSION = 1;

    private static final byte TRIM_HORIZON = 1;
    private static final byte LATEST = 2;
    private static final byte AT_TIMESTAMP = 3;
    private static final byte AFTER_SEQUENCE_NUMBER = 4;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(KinesisShardSplit split) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        write(split, out);
        return out.getCopyOfBuffer();
    }

    @Override
    public KinesisShardSplit deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION) {
            throw new IOException(
                    "cannot read a Kinesis shard split of serializer version "
                            + version
                            + " (this build reads version "
                            + VERSION
                            + ")");
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        KinesisShardSplit split = read(in);
        if (in.available() != 0) {
            throw new IOException("trailing bytes after a Kinesis shard split");
        }
        return split;
    }

    static void write(KinesisShardSplit split, DataOutputSerializer out) throws IOException {
        out.writeUTF(split.shardId());
        out.writeInt(split.parentShardIds().size());
        for (String parent : split.parentShardIds()) {
            out.writeUTF(parent);
        }
        StartingPosition position = split.startingPosition();
        switch (position.type()) {
            case TRIM_HORIZON:
                out.writeByte(TRIM_HORIZON);
                break;
            case LATEST:
                out.writeByte(LATEST);
                break;
            case AT_TIMESTAMP:
                out.writeByte(AT_TIMESTAMP);
                out.writeLong(position.timestampMillis());
                break;
            case AFTER_SEQUENCE_NUMBER:
                out.writeByte(AFTER_SEQUENCE_NUMBER);
                out.writeUTF(position.sequenceNumber());
                break;
            default:
                throw new IOException("unknown starting position " + position);
        }
        out.writeBoolean(split.isFinished());
    }

    static KinesisShardSplit read(DataInputDeserializer in) throws IOException {
        String shardId = in.readUTF();
        int parentCount = in.readInt();
        if (parentCount < 0 || parentCount > 2) {
            throw new IOException("corrupt Kinesis shard split: " + parentCount + " parents");
        }
        List<String> parents = new ArrayList<>(parentCount);
        for (int i = 0; i < parentCount; i++) {
            parents.add(in.readUTF());
        }
        byte kind = in.readByte();
        StartingPosition position;
        switch (kind) {
            case TRIM_HORIZON:
                position = StartingPosition.trimHorizon();
                break;
            case LATEST:
                position = StartingPosition.latest();
                break;
            case AT_TIMESTAMP:
                position = StartingPosition.atTimestamp(in.readLong());
                break;
            case AFTER_SEQUENCE_NUMBER:
                position = StartingPosition.afterSequenceNumber(in.readUTF());
                break;
            default:
                throw new IOException("corrupt Kinesis shard split: position kind " + kind);
        }
        boolean finished = in.readBoolean();
        return new KinesisShardSplit(shardId, parents, position, finished);
    }
}
