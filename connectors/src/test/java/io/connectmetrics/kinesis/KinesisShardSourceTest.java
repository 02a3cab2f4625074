package io.connectmetrics.kinesis;

import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KinesisShardSourceTest {

    @Test
    void builderAppliesSettingsAndDefaults() throws Exception {
        KinesisShardSource source =
                KinesisShardSource.builder()
                        .streamName("agent-events")
                        .region("us-east-1")
                        .endpoint("http://127.0.0.1:4568")
                        .initialPosition("AT_TIMESTAMP:2025-01-31T08:00:00Z")
                        .pollIntervalMillis(100)
                        .maxRecordsPerPoll(500)
                        .shardDiscoveryIntervalMillis(2000)
                        .build();
        KinesisSourceConfig config = source.config();
        assertEquals("agent-events", config.streamName());
        assertEquals("http://127.0.0.1:4568", config.endpoint());
        assertEquals(StartingPosition.Type.AT_TIMESTAMP, config.initialPosition().type());
        assertEquals(100, config.pollIntervalMillis());
        assertEquals(500, config.maxRecordsPerPoll());
        assertEquals(2000, config.shardDiscoveryIntervalMillis());
        assertEquals(Boundedness.CONTINUOUS_UNBOUNDED, source.getBoundedness());

        KinesisShardSource aws =
                KinesisShardSource.builder().streamName("s").region("eu-west-1").endpoint("").build();
        assertNull(aws.config().endpoint());
        assertEquals(StartingPosition.trimHorizon(), aws.config().initialPosition());
        assertEquals(250, aws.config().pollIntervalMillis());

        // The source travels with the job graph.
        try (ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream())) {
            out.writeObject(source);
        }
    }

    @Test
    void builderRejectsBadSettings() {
        assertThrows(IllegalArgumentException.class,
                () -> KinesisShardSource.builder().region("us-east-1").build());
        assertThrows(IllegalArgumentException.class,
                () -> KinesisShardSource.builder().streamName("s").build());
        IllegalArgumentException position =
                assertThrows(IllegalArgumentException.class,
                        () -> KinesisShardSource.builder().streamName("s").region("r")
                                .initialPosition("SOMETIME").build());
        assertTrue(position.getMessage().contains("'s'"));
        assertThrows(IllegalArgumentException.class,
                () -> KinesisShardSource.builder().streamName("s").region("r")
                        .endpoint("127.0.0.1:4568").build());
        assertThrows(IllegalArgumentException.class,
                () -> KinesisShardSource.builder().streamName("s").region("r")
                        .maxRecordsPerPoll(10_001).build());
    }

    @Test
    void producedTypeHasTheFiveNamedFields() {
        RowTypeInfo type = (RowTypeInfo) KinesisShardSource.builder()
                .streamName("s").region("r").build().getProducedType();
        assertArrayEquals(
                new String[] {"stream", "shard_id", "sequence_number", "arrival_time", "data"},
                type.getFieldNames());
        assertEquals(Types.STRING, type.getTypeAt(0));
        assertEquals(Types.STRING, type.getTypeAt(1));
        assertEquals(Types.STRING, type.getTypeAt(2));
        assertEquals(Types.LONG, type.getTypeAt(3));
        assertEquals(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO, type.getTypeAt(4));
    }

    @Test
    void fatalMessagesNameStreamEndpointAndFix() {
        KinesisSourceConfig config = KinesisShardSource.builder().streamName("agent-events")
                .region("us-east-1").endpoint("http://127.0.0.1:4568").build().config();
        String notFound = config.fatal(new KinesisClientException(
                KinesisClientException.Kind.STREAM_NOT_FOUND, "Stream agent-events not found"))
                .getMessage();
        assertTrue(notFound.contains("'agent-events'"), notFound);
        assertTrue(notFound.contains("http://127.0.0.1:4568"), notFound);
        assertTrue(notFound.contains("connect-metrics dev up"), notFound);

        KinesisSourceConfig aws = KinesisShardSource.builder().streamName("agent-events")
                .region("eu-west-1").build().config();
        String denied = aws.fatal(new KinesisClientException(
                KinesisClientException.Kind.ACCESS_DENIED, "User is not authorized")).getMessage();
        assertTrue(denied.contains("AWS endpoint of eu-west-1"), denied);
        assertTrue(denied.contains("kinesis:GetRecords"), denied);
    }
}
