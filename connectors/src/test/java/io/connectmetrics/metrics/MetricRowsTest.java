package io.connectmetrics.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.junit.jupiter.api.Test;

class MetricRowsTest {

    private static final Class<?>[] COLUMNS = {String.class, Long.class};
    private static final ZoneId UTC = ZoneId.of("UTC");

    @Test
    void aRowTheOperatorAheadReusesIsKeptAsItWasWhenAdded() {
        MetricRows.Batch batch = new MetricRows.Batch(10, UTC);
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
        MetricRows.Batch batch = new MetricRows.Batch(10, UTC);
        for (Row row : new Row[] {inserted, before, after, deleted}) {
            assertFalse(batch.add(row));
        }
        assertEquals(columns(new String[] {"q-1", "q-1"}, new Long[] {3L, 4L}), batch.drain(COLUMNS));
        assertTrue(batch.isEmpty());
        assertNull(batch.drain(COLUMNS), "nothing to emit after a drain");
    }

    @Test
    void aBatchSaysWhenItIsFullAndStartsAgainAfterADrain() {
        MetricRows.Batch batch = new MetricRows.Batch(2, UTC);
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

    @Test
    void timesGoOnAsEpochMillisecondsAWallClockTimeInTheSqlTimeZone() {
        MetricRows.Batch batch = new MetricRows.Batch(10, ZoneId.of("America/New_York"));
        batch.add(Row.of("q-1", Instant.parse("2026-01-05T08:00:00.250Z"),
                LocalDateTime.parse("2026-01-05T03:00:00.250"), null));
        Row columns = batch.drain(new Class<?>[] {String.class, Long.class, Long.class, Long.class});
        long eightUtc = Instant.parse("2026-01-05T08:00:00.250Z").toEpochMilli();
        assertArrayEquals(new Long[] {eightUtc}, (Long[]) columns.getField(1));
        assertArrayEquals(new Long[] {eightUtc}, (Long[]) columns.getField(2), "03:00 in New York");
        assertArrayEquals(new Long[] {null}, (Long[]) columns.getField(3), "a null time stays null");
    }

    private static Row columns(String[] queues, Long[] counts) {
        return Row.of(queues, counts);
    }
}
