package io.connectmetrics.kinesis;

/** A failure of the Kinesis source that retrying will not fix; fails the job. */
public final class KinesisSourceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public KinesisSourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
