package io.connectmetrics.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

class ReplayLinesTest {

    @Test
    void aLineBecomesARawRowOfItsUtf8Bytes() {
        String line = "{\"ContactId\":\"c-1\",\"Name\":\"Zoë\"}";
        Row row = new ReplayLines.ToRawRecord().map(line);
        assertEquals(5, row.getArity());
        assertEquals("replay", row.getField(0));
        assertEquals("", row.getField(1));
        assertEquals("", row.getField(2));
        assertEquals(0L, row.getField(3));
        assertArrayEquals(line.getBytes(StandardCharsets.UTF_8), (byte[]) row.getField(4));
    }
}
