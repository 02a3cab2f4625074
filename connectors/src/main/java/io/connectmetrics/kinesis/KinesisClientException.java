package io.connectmetrics.kinesis;

/** A failed Kinesis call, classified by what the caller should do about it. */
public final class KinesisClientException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What a failure means for the caller. */
    public enum Kind {
        /** Throughput or request-rate limits: wait and retry, indefinitely. */
        THROTTLED,
        /** Server-side (5xx) or network failure: wait and retry for a bounded time. */
        TRANSIENT,
        /** The shard iterator is older than five minutes: get a new one and retry. */
        EXPIRED_ITERATOR,
        /** The stream exists but the shard does not (anymore): it is past retention. */
        SHARD_NOT_FOUND,
        /** The stream does not exist. */
        STREAM_NOT_FOUND,
        /** Credentials are missing, invalid or not allowed to read the stream. */
        ACCESS_DENIED,
        /** Anything else that retrying will not fix (invalid argument, KMS key disabled...). */
        FATAL;

        public boolean isRetryable() {
            return this == THROTTLED || this == TRANSIENT || this == EXPIRED_ITERATOR;
        }
    }

    private final Kind kind;

    public KinesisClientException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public KinesisClientException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }
}
