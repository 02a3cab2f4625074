package io.connectmetrics.kinesis;

import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Versioned binary form of {@link KinesisEnumeratorState}. */
public final class KinesisEnumeratorStateSerializer
        implements SimpleVersionedSerializer<KinesisEnumeratorState> {

    static final int VERSION = 1;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(KinesisEnumeratorState state) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeBoolean(state.initialDiscoveryDone());
        writeStrings(state.assignedShardIds(), out);
        writeStrings(state.finishedShardIds(), out);
        out.writeInt(state.unassignedSplits().size());
        for (KinesisShardSplit split : state.unassignedSplits()) {
            KinesisShardSplitSerializer.write(split, out);
        }
        return out.getCopyOfBuffer();
    }

    @Override
    public KinesisEnumeratorState deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION) {
            throw new IOException(
                    "cannot read Kinesis enumerator state of serializer version "
                            + version
                            + " (this build reads version "
                            + VERSION
                            + ")");
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        boolean initialDiscoveryDone = in.readBoolean();
        List<String> assigned = readStrings(in);
        List<String> finished = readStrings(in);
        int count = checkCount(in.readInt());
        List<KinesisShardSplit> unassigned = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            unassigned.add(KinesisShardSplitSerializer.read(in));
        }
        if (in.available() != 0) {
            throw new IOException("trailing bytes after Kinesis enumerator state");
        }
        return new KinesisEnumeratorState(assigned, finished, unassigned, initialDiscoveryDone);
    }

    private static void writeStrings(Collection<String> values, DataOutputSerializer out)
            throws IOException {
        out.writeInt(values.size());
        for (String value : values) {
            out.writeUTF(value);
        }
    }

    private static List<String> readStrings(DataInputDeserializer in) throws IOException {
        int count = checkCount(in.readInt());
        List<String> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            values.add(in.readUTF());
        }
        return values;
    }

    private static int checkCount(int count) throws IOException {
        if (count < 0 || count > 1_000_000) {
            throw new IOException("corrupt Kinesis enumerator state: count " + count);
        }
        return count;
    }
}
