package io.connectmetrics.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.junit.jupiter.api.Test;

class MetricRowsTest {

    private static final Class<?>[] COLUMNS = {String.class, Long.class};

    @Test
    void aRowTheOperatorAheadReusesIsKeptAsItWasWhenAdded() {
        MetricRows.Batch batch = new MetricRows.Batch(10);
        Row reused = Row.of("q-1", 1L);
        batch.add(reused);
        reused.setField(1, 2L);
        batch.add(reused);
        assertArrayEquals(new Long[] {1L, 2L}, (Long[]) batch.drain(COLUMNS).getField(1));
    }

    @Test
    void insertsAndNewValuesAreKeptInOrderAndRetractionsDropped() {
        Row inserted = Row.ofKind(RowKind.INSERT, "q-1", 3L);
        Row before = Row.ofKind(RowKind.UPDATE_BEFORE, "q-1", 3L);
        Row after = Row.ofKind(RowKind.UPDATE_AFTER, "q-1", 4L);
        Row deleted = Row.ofKind(RowKind.DELETE, "q-1", 4L);
        MetricRows.Batch batch = new MetricRows.Batch(10);
        for (Row row : new Row[] {inserted, before, after, deleted}) {
            assertFalse(batch.add(row));
        }
        assertEquals(columns(new String[] {"q-1", "q-1"}, new Long[] {3L, 4L}), batch.drain(COLUMNS));
        assertTrue(batch.isEmpty());
        assertNull(batch.drain(COLUMNS), "nothing to emit after a drain");
    }

    @Test
    void aBatchSaysWhenItIsFullAndStartsAgainAfterADrain() {
        MetricRows.Batch batch = new MetricRows.Batch(2);
        Row first = Row.of("q-1", 1L);
        Row second = Row.of("q-1", 2L);
        assertFalse(batch.add(first));
        assertFalse(batch.add(Row.ofKind(RowKind.UPDATE_BEFORE, "q-1", 1L)), "not counted");
        assertTrue(batch.add(second));
        assertEquals(columns(new String[] {"q-1", "q-1"}, new Long[] {1L, 2L}), batch.drain(COLUMNS));
        Row third = Row.of("q-1", 3L);
        assertFalse(batch.add(third));
        assertEquals(columns(new String[] {"q-1"}, new Long[] {3L}), batch.drain(COLUMNS));
    }

    private static Row columns(String[] queues, Long[] counts) {
        return Row.of(queues, counts);
    }
}
