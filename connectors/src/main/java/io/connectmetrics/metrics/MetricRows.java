package io.connectmetrics.metrics;

import java.lang.reflect.Array;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;

/**
 * A metric query's rows on their way to the Python metric sink, in batches: the sink formats and
 * writes each batch in one call, where a call per row was a round trip between the JVM and
 * Python, a state write and a timer each. Only the rows a change adds are written (an insert, or
 * the new value of an update): a retracted row is replaced by the row that follows it.
 *
 * <p>A batch goes out when it is full, at most {@code maxDelayMs} after its first row (sooner when
 * the timer was set by a batch that went out full), before a checkpoint barrier and at the end
 * of the input. So the rows of a checkpoint reach the sink before the barrier does, and the
 * batcher keeps no state.
 */
public final class MetricRows {

    private MetricRows() {}

    /**
     * The rows {@code changelog} adds, in batches of at most {@code maxRows}, as (key, columns):
     * the input of a keyed Python operator, keyed by its first field (what PyFlink's own key_by
     * makes in Python). {@code batchType} is (string, row of one array per column), each array
     * of its column's type. Columns, not an array of rows: PyFlink hands Python an array of
     * rows as so many references to the last row it converted (its row converter reuses one
     * array). The arrays of TIMESTAMP and TIMESTAMP_LTZ columns are of epoch milliseconds
     * ({@code Long}); a TIMESTAMP is a wall-clock time in {@code zone}, the SQL time zone.
     */
    public static DataStream<Row> batches(
            DataStream<Row> changelog,
            String key,
            int maxRows,
            long maxDelayMs,
            TypeInformation<Row> batchType,
            String zone) {
        RowTypeInfo columns = (RowTypeInfo) ((RowTypeInfo) batchType).<Row>getTypeAt(1);
        Class<?>[] classes = new Class<?>[columns.getArity()];
        for (int i = 0; i < classes.length; i++) {
            classes[i] = columns.getTypeAt(i).getTypeClass().getComponentType();
        }
        return changelog.transform(
                "batches of " + key, batchType, new Batcher(key, maxRows, maxDelayMs, classes, zone));
    }

    /**
     * The fields of the rows a change adds, collected until there are {@code maxRows}, times as
     * epoch milliseconds. The fields are read when a row comes: the operator ahead may reuse the
     * row it emits.
     */
    static final class Batch {
        private final int maxRows;
        private final ZoneId zone;
        private List<Object[]> rows = new ArrayList<>();

        Batch(int maxRows, ZoneId zone) {
            this.maxRows = maxRows;
            this.zone = zone;
        }

        /** Keep the fields of {@code row} if a change adds it; true when the batch is now full. */
        boolean add(Row row) {
            RowKind kind = row.getKind();
            if (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER) {
                Object[] fields = new Object[row.getArity()];
                for (int i = 0; i < fields.length; i++) {
                    fields[i] = epochMillisOf(row.getField(i));
                }
                rows.add(fields);
            }
            return rows.size() >= maxRows;
        }

        boolean isEmpty() {
            return rows.isEmpty();
        }

        private Object epochMillisOf(Object field) {
            if (field instanceof Instant instant) {
                return instant.toEpochMilli();
            }
            if (field instanceof LocalDateTime wallClock) {
                return wallClock.atZone(zone).toInstant().toEpochMilli();
            }
            return field;
        }

        /**
         * The rows kept, in order, as one array per column (of {@code classes}), and an empty
         * batch; null when there are none.
         */
        Row drain(Class<?>[] classes) {
            if (rows.isEmpty()) {
                return null;
            }
            Row columns = new Row(classes.length);
            for (int column = 0; column < classes.length; column++) {
                Object values = Array.newInstance(classes[column], rows.size());
                for (int row = 0; row < rows.size(); row++) {
                    Array.set(values, row, rows.get(row)[column]);
                }
                columns.setField(column, values);
            }
            rows = new ArrayList<>();
            return columns;
        }
    }

    /** Emits (key, rows) of each batch; see the class for when. */
    static final class Batcher extends AbstractStreamOperator<Row>
            implements OneInputStreamOperator<Row, Row>, ProcessingTimeCallback {
        private final String key;
        private final int maxRows;
        private final long maxDelayMs;
        private final Class<?>[] classes;
        private final String zone;
        private transient Batch batch;
        private transient boolean timerSet;

        Batcher(String key, int maxRows, long maxDelayMs, Class<?>[] classes, String zone) {
            this.key = key;
            this.maxRows = maxRows;
            this.maxDelayMs = maxDelayMs;
            this.classes = classes;
            this.zone = zone;
        }

        @Override
        public void open() throws Exception {
            super.open();
            batch = new Batch(maxRows, ZoneId.of(zone));
        }

        @Override
        public void processElement(StreamRecord<Row> element) {
            if (batch.add(element.getValue())) {
                emit();
            } else if (!timerSet && !batch.isEmpty()) {
                ProcessingTimeService time = getProcessingTimeService();
                time.registerTimer(time.getCurrentProcessingTime() + maxDelayMs, this);
                timerSet = true;
            }
        }

        @Override
        public void onProcessingTime(long time) {
            timerSet = false;
            emit();
        }

        @Override
        public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
            super.prepareSnapshotPreBarrier(checkpointId);
            emit();
        }

        @Override
        public void finish() throws Exception {
            emit();
            super.finish();
        }

        private void emit() {
            Row columns = batch.drain(classes);
            if (columns != null) {
                output.collect(new StreamRecord<>(Row.of(key, columns)));
            }
        }
    }
}
