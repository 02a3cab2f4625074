package io.connectmetrics.replay;

import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.types.Row;

/**
 * The lines of recorded files as the raw rows the Kinesis source emits (stream, shard id,
 * sequence number, arrival time, data), made in the JVM: in Python each line would be a round
 * trip between the JVM and the interpreter before the parse step.
 */
public final class ReplayLines {

    /** The stream name a replayed record carries. */
    public static final String STREAM = "replay";

    private ReplayLines() {}

    /** {@code lines} as raw rows of {@code rawType}. */
    public static DataStream<Row> rawRecords(DataStream<String> lines, TypeInformation<Row> rawType) {
        return lines.map(new ToRawRecord(), rawType);
    }

    /** One line as a raw row: no shard, position or arrival time, the line's UTF-8 bytes. */
    static final class ToRawRecord implements MapFunction<String, Row> {
        @Override
        public Row map(String line) {
            return Row.of(STREAM, "", "", 0L, line.getBytes(StandardCharsets.UTF_8));
        }
    }
}
