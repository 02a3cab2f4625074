package io.connectmetrics.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.connectmetrics.ListCollector;
import java.util.List;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.junit.jupiter.api.Test;

class MetricRowsTest {

    @Test
    void insertsAndNewValuesAreKeyedAndRetractionsDropped() {
        Row inserted = Row.ofKind(RowKind.INSERT, "q-1", 3L);
        Row before = Row.ofKind(RowKind.UPDATE_BEFORE, "q-1", 3L);
        Row after = Row.ofKind(RowKind.UPDATE_AFTER, "q-1", 4L);
        Row deleted = Row.ofKind(RowKind.DELETE, "q-1", 4L);
        ListCollector<Row> collected = new ListCollector<>();
        MetricRows.Added added = new MetricRows.Added("queue_today");
        for (Row row : List.of(inserted, before, after, deleted)) {
            added.flatMap(row, collected);
        }
        List<Row> out = collected.out;
        assertEquals(2, out.size());
        assertEquals("queue_today", out.get(0).getField(0));
        assertSame(inserted, out.get(0).getField(1));
        assertSame(after, out.get(1).getField(1));
    }
}
