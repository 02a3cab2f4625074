package io.connectmetrics.kinesis;

import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.types.Row;

import java.util.Objects;

/**
 * Unbounded source reading one Kinesis data stream by polling (GetShardIterator + GetRecords).
 *
 * <p>Each record becomes a {@link Row} of {@code stream} (String), {@code shard_id} (String),
 * {@code sequence_number} (String), {@code arrival_time} (Long, epoch millis of the record's
 * ApproximateArrivalTimestamp) and {@code data} (byte[], the record's bytes as written). A
 * record's timestamp is its arrival time. Splits are shards; a checkpoint keeps, per shard, the
 * sequence number of the last record emitted and reading resumes after it.
 *
 * <pre>{@code
 * KinesisShardSource source = KinesisShardSource.builder()
 *     .streamName("agent-events")
 *     .region("us-east-1")
 *     .endpoint("http://127.0.0.1:4568")   // optional
 *     .initialPosition("TRIM_HORIZON")
 *     .build();
 * }</pre>
 *
 * <p>Credentials come from the AWS SDK's default credentials chain.
 */
public final class KinesisShardSource
        implements Source<Row, KinesisShardSplit, KinesisEnumeratorState>,
                ResultTypeQueryable<Row> {

    private static final long serialVersionUID = 1L;

    /** Field names of the produced rows, in order. */
    public static final String[] FIELD_NAMES = {
        "stream", "shard_id", "sequence_number", "arrival_time", "data"
    };

    private final KinesisSourceConfig config;
    private final KinesisClientFactory clientFactory;

    KinesisShardSource(KinesisSourceConfig config, KinesisClientFactory clientFactory) {
        this.config = Objects.requireNonNull(config);
        this.clientFactory = Objects.requireNonNull(clientFactory);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The row type of the produced records. */
    public static RowTypeInfo producedType() {
        return new RowTypeInfo(
                new TypeInformation<?>[] {
                    Types.STRING,
                    Types.STRING,
                    Types.STRING,
                    Types.LONG,
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO
                },
                FIELD_NAMES.clone());
    }

    @Override
    public TypeInformation<Row> getProducedType() {
        return producedType();
    }

    public KinesisSourceConfig config() {
        return config;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SplitEnumerator<KinesisShardSplit, KinesisEnumeratorState> createEnumerator(
            SplitEnumeratorContext<KinesisShardSplit> context) {
        return restoreEnumerator(context, KinesisEnumeratorState.empty());
    }

    @Override
    public SplitEnumerator<KinesisShardSplit, KinesisEnumeratorState> restoreEnumerator(
            SplitEnumeratorContext<KinesisShardSplit> context, KinesisEnumeratorState state) {
        return new KinesisShardEnumerator(
                context,
                config,
                clientFactory,
                state,
                KinesisShardEnumerator.DEFAULT_UNREACHABLE_AT_START_MILLIS);
    }

    @Override
    public SourceReader<Row, KinesisShardSplit> createReader(SourceReaderContext context) {
        KinesisReaderMetrics metrics = new KinesisReaderMetrics(context.metricGroup());
        return new KinesisShardSourceReader(
                () ->
                        new KinesisShardSplitReader(
                                config, clientFactory.create(config, false), metrics),
                new KinesisRecordEmitter(config.streamName()),
                context);
    }

    @Override
    public SimpleVersionedSerializer<KinesisShardSplit> getSplitSerializer() {
        return new KinesisShardSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KinesisEnumeratorState> getEnumeratorCheckpointSerializer() {
        return new KinesisEnumeratorStateSerializer();
    }

    @Override
    public String toString() {
        return "KinesisShardSource{" + config + '}';
    }

    /** Builder; every setter returns the builder so calls chain (also through py4j). */
    public static final class Builder {

        private String streamName;
        private String region;
        private String endpoint;
        private String initialPosition = "TRIM_HORIZON";
        private long pollIntervalMillis = 250L;
        private int maxRecordsPerPoll = 1000;
        private long shardDiscoveryIntervalMillis = 10_000L;
        private long idleClockMillis = 0L;
        private KinesisClientFactory clientFactory = AwsKinesisShardClient.FACTORY;

        private Builder() {}

        /** Required: the name of the Kinesis data stream. */
        public Builder streamName(String streamName) {
            this.streamName = streamName;
            return this;
        }

        /** Required: the AWS region, e.g. us-east-1. */
        public Builder region(String region) {
            this.region = region;
            return this;
        }

        /** Optional endpoint override such as http://127.0.0.1:4568; null or "" for AWS. */
        public Builder endpoint(String endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        /** TRIM_HORIZON (default), LATEST or AT_TIMESTAMP:&lt;ISO-8601 instant&gt;. */
        public Builder initialPosition(String initialPosition) {
            this.initialPosition = initialPosition;
            return this;
        }

        /** Wait between polls of a shard that is caught up; default 250 ms. */
        public Builder pollIntervalMillis(long pollIntervalMillis) {
            this.pollIntervalMillis = pollIntervalMillis;
            return this;
        }

        /** GetRecords limit, 1 to 10000; default 1000. */
        public Builder maxRecordsPerPoll(int maxRecordsPerPoll) {
            this.maxRecordsPerPoll = maxRecordsPerPoll;
            return this;
        }

        /** How often the shard list is refreshed to find new shards; default 10 s. */
        public Builder shardDiscoveryIntervalMillis(long shardDiscoveryIntervalMillis) {
            this.shardDiscoveryIntervalMillis = shardDiscoveryIntervalMillis;
            return this;
        }

        /**
         * A caught-up shard with nothing new hands over a clock record this often (see {@link
         * KinesisSourceConfig#idleClockMillis()}); default 0: never.
         */
        public Builder idleClockMillis(long idleClockMillis) {
            this.idleClockMillis = idleClockMillis;
            return this;
        }

        /** Replaces the AWS SDK client, e.g. with a fake in tests. */
        public Builder clientFactory(KinesisClientFactory clientFactory) {
            this.clientFactory = Objects.requireNonNull(clientFactory, "clientFactory");
            return this;
        }

        public KinesisShardSource build() {
            if (streamName == null || streamName.isBlank()) {
                throw new IllegalArgumentException("Kinesis source: streamName is required");
            }
            if (region == null || region.isBlank()) {
                throw new IllegalArgumentException(
                        "Kinesis source for stream '" + streamName + "': region is required");
            }
            String normalizedEndpoint =
                    endpoint == null || endpoint.isBlank() ? null : endpoint.trim();
            if (normalizedEndpoint != null
                    && !normalizedEndpoint.startsWith("http://")
                    && !normalizedEndpoint.startsWith("https://")) {
                throw new IllegalArgumentException(
                        "Kinesis source for stream '"
                                + streamName
                                + "': endpoint '"
                                + endpoint
                                + "' must start with http:// or https://");
            }
            if (pollIntervalMillis < 0) {
                throw new IllegalArgumentException(
                        "Kinesis source: pollIntervalMillis must not be negative");
            }
            if (maxRecordsPerPoll < 1 || maxRecordsPerPoll > 10_000) {
                throw new IllegalArgumentException(
                        "Kinesis source: maxRecordsPerPoll must be between 1 and 10000, not "
                                + maxRecordsPerPoll);
            }
            if (idleClockMillis < 0) {
                throw new IllegalArgumentException(
                        "Kinesis source: idleClockMillis must not be negative");
            }
            if (shardDiscoveryIntervalMillis < 1) {
                throw new IllegalArgumentException(
                        "Kinesis source: shardDiscoveryIntervalMillis must be positive");
            }
            StartingPosition position;
            try {
                position = StartingPosition.parse(initialPosition);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "Kinesis source for stream '" + streamName + "': " + e.getMessage(), e);
            }
            KinesisSourceConfig config =
                    new KinesisSourceConfig(
                            streamName.trim(),
                            region.trim(),
                            normalizedEndpoint,
                            position,
                            pollIntervalMillis,
                            maxRecordsPerPoll,
                            shardDiscoveryIntervalMillis,
                            idleClockMillis);
            return new KinesisShardSource(config, clientFactory);
        }
    }
}
