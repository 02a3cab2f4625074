package io.connectmetrics.metrics;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;

/**
 * A metric query's rows on their way to the Python metric sink, which formats and writes them.
 * Only the rows a change adds are written (an insert, or the new value of an update): a
 * retracted row is replaced by the row that follows it. Dropping retractions here and keying
 * here saves each row a round trip between the JVM and Python.
 */
public final class MetricRows {

    private MetricRows() {}

    /**
     * The rows {@code changelog} adds, as (key, row): the input of a keyed Python operator,
     * keyed by its first field (what PyFlink's own key_by makes in Python).
     */
    public static DataStream<Row> keyed(DataStream<Row> changelog, String key) {
        TypeInformation<Row> type = new RowTypeInfo(Types.STRING, changelog.getType());
        return changelog.flatMap(new Added(key), type);
    }

    /** (key, row) of each row a change adds. */
    static final class Added implements FlatMapFunction<Row, Row> {
        private final String key;

        Added(String key) {
            this.key = key;
        }

        @Override
        public void flatMap(Row row, Collector<Row> out) {
            RowKind kind = row.getKind();
            if (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER) {
                out.collect(Row.of(key, row));
            }
        }
    }
}
