package io.connectmetrics.kinesis;

import java.io.Serializable;
import java.time.Duration;

/** Validated, immutable settings of a {@link KinesisShardSource}. */
public final class KinesisSourceConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String streamName;
    private final String region;
    private final String endpoint;
    private final StartingPosition initialPosition;
    private final long pollIntervalMillis;
    private final int maxRecordsPerPoll;
    private final long shardDiscoveryIntervalMillis;
    private final long idleClockMillis;

    KinesisSourceConfig(
            String streamName,
            String region,
            String endpoint,
            StartingPosition initialPosition,
            long pollIntervalMillis,
            int maxRecordsPerPoll,
            long shardDiscoveryIntervalMillis,
            long idleClockMillis) {
        this.streamName = streamName;
        this.region = region;
        this.endpoint = endpoint;
        this.initialPosition = initialPosition;
        this.pollIntervalMillis = pollIntervalMillis;
        this.maxRecordsPerPoll = maxRecordsPerPoll;
        this.shardDiscoveryIntervalMillis = shardDiscoveryIntervalMillis;
        this.idleClockMillis = idleClockMillis;
    }

    public String streamName() {
        return streamName;
    }

    public String region() {
        return region;
    }

    /** The endpoint override, or null for the AWS endpoint of the region. */
    public String endpoint() {
        return endpoint;
    }

    public StartingPosition initialPosition() {
        return initialPosition;
    }

    public long pollIntervalMillis() {
        return pollIntervalMillis;
    }

    public int maxRecordsPerPoll() {
        return maxRecordsPerPoll;
    }

    /**
     * How often a shard that is caught up and quiet hands over a clock record (no sequence
     * number, no data, the wall-clock time as its arrival time), so event time can move on
     * while nothing arrives; 0: never.
     */
    public long idleClockMillis() {
        return idleClockMillis;
    }

    public long shardDiscoveryIntervalMillis() {
        return shardDiscoveryIntervalMillis;
    }

    /** "stream 'x' at http://... (region r)", for messages. */
    String describeStream() {
        String where = endpoint != null ? endpoint : "the AWS endpoint of " + region;
        return "Kinesis stream '" + streamName + "' at " + where + " (region " + region + ")";
    }

    /** The message a job fails with when a call to Kinesis cannot succeed by retrying. */
    KinesisSourceException fatal(KinesisClientException e) {
        String detail = e.getMessage();
        String message;
        switch (e.kind()) {
            case STREAM_NOT_FOUND:
                message =
                        describeStream()
                                + " not found: create it (connect-metrics dev up) or fix the"
                                + " stream name in the job configuration (Kinesis.agent.stream"
                                + " / Kinesis.contact.stream). Kinesis said: "
                                + detail;
                break;
            case ACCESS_DENIED:
                message =
                        "access to "
                                + describeStream()
                                + " denied: "
                                + detail
                                + ". Give the job's AWS credentials (found by the SDK's default"
                                + " credentials chain) kinesis:ListShards, kinesis:GetShardIterator"
                                + " and kinesis:GetRecords on the stream, plus kms:Decrypt if it"
                                + " is encrypted";
                break;
            default:
                message =
                        "reading "
                                + describeStream()
                                + " failed: "
                                + detail
                                + ". Check the stream and the Kinesis settings of the job";
                break;
        }
        return new KinesisSourceException(message, e);
    }

    /** The message a job fails with when retryable failures went on for too long. */
    KinesisSourceException gaveUp(String what, Duration duration, int attempts, Throwable last) {
        return new KinesisSourceException(
                what
                        + " of "
                        + describeStream()
                        + " kept failing for "
                        + duration.toSeconds()
                        + " s ("
                        + attempts
                        + " attempts), last error: "
                        + last.getMessage()
                        + ". Check that the endpoint is reachable (locally: connect-metrics dev up)",
                last);
    }

    @Override
    public String toString() {
        return "KinesisSourceConfig{stream="
                + streamName
                + ", region="
                + region
                + ", endpoint="
                + (endpoint == null ? "<AWS default>" : endpoint)
                + ", initialPosition="
                + initialPosition
                + ", pollIntervalMillis="
                + pollIntervalMillis
                + ", maxRecordsPerPoll="
                + maxRecordsPerPoll
                + ", shardDiscoveryIntervalMillis="
                + shardDiscoveryIntervalMillis
                + '}';
    }
}
