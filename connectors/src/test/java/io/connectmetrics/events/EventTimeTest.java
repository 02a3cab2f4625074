package io.connectmetrics.events;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.connectmetrics.ListCollector;
import java.util.List;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

class EventTimeTest {

    private static final Tuple4<Long, Integer, String, byte[]> EVENT =
            Tuple4.of(1_767_600_000_123L, EventTime.EVENT, "contact-1", new byte[] {7, 8});
    private static final Tuple4<Long, Integer, String, byte[]> LINK =
            Tuple4.of(1_767_600_000_100L, EventTime.LINK, "contact-0", new byte[] {5});
    private static final Tuple4<Long, Integer, String, byte[]> TICK =
            Tuple4.of(1_767_600_001_000L, EventTime.TICK, "", new byte[] {9});

    @Test
    void theTimestampIsTheFirstField() {
        assertEquals(1_767_600_000_123L, new EventTime.FirstField().extractTimestamp(EVENT, 5L));
    }

    @Test
    void eventsPassTheirPayloadAndLinksAndTicksNothing() {
        ListCollector<byte[]> collected = new ListCollector<>();
        EventTime.Events events = new EventTime.Events();
        for (Tuple4<Long, Integer, String, byte[]> row : List.of(EVENT, LINK, TICK)) {
            events.flatMap(row, collected);
        }
        List<byte[]> out = collected.out;
        assertEquals(1, out.size());
        assertArrayEquals(new byte[] {7, 8}, out.get(0));
    }

    @Test
    void eventsAndLinksAreKeyedAndTicksDropped() {
        ListCollector<Row> collected = new ListCollector<>();
        EventTime.Keyed keyed = new EventTime.Keyed();
        for (Tuple4<Long, Integer, String, byte[]> row : List.of(EVENT, LINK, TICK)) {
            keyed.flatMap(row, collected);
        }
        List<Row> out = collected.out;
        assertEquals(2, out.size());
        assertEquals("contact-1", out.get(0).getField(0));
        assertArrayEquals(new byte[] {7, 8}, (byte[]) out.get(0).getField(1));
        assertEquals("contact-0", out.get(1).getField(0));
    }
}
