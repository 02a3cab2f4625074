package io.connectmetrics.kinesis;

import java.io.Serializable;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;

/** Where reading of a shard starts: a Kinesis shard iterator type plus its argument. */
public final class StartingPosition implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The shard iterator types this source uses. */
    public enum Type {
        TRIM_HORIZON,
        LATEST,
        AT_TIMESTAMP,
        AFTER_SEQUENCE_NUMBER
    }

    private static final StartingPosition TRIM_HORIZON =
            new StartingPosition(Type.TRIM_HORIZON, null, 0L);
    private static final StartingPosition LATEST = new StartingPosition(Type.LATEST, null, 0L);

    private final Type type;
    private final String sequenceNumber;
    private final long timestampMillis;

    private StartingPosition(Type type, String sequenceNumber, long timestampMillis) {
        this.type = type;
        this.sequenceNumber = sequenceNumber;
        this.timestampMillis = timestampMillis;
    }

    public static StartingPosition trimHorizon() {
        return TRIM_HORIZON;
    }

    public static StartingPosition latest() {
        return LATEST;
    }

    public static StartingPosition atTimestamp(long epochMillis) {
        return new StartingPosition(Type.AT_TIMESTAMP, null, epochMillis);
    }

    public static StartingPosition afterSequenceNumber(String sequenceNumber) {
        if (sequenceNumber == null || sequenceNumber.isEmpty()) {
            throw new IllegalArgumentException("sequence number must not be empty");
        }
        return new StartingPosition(Type.AFTER_SEQUENCE_NUMBER, sequenceNumber, 0L);
    }

    /**
     * Parses the user-facing form: {@code TRIM_HORIZON}, {@code LATEST} or {@code
     * AT_TIMESTAMP:<ISO-8601 instant>} (for example {@code AT_TIMESTAMP:2025-01-31T08:00:00Z}).
     */
    public static StartingPosition parse(String text) {
        if (text == null || text.isBlank()) {
            return TRIM_HORIZON;
        }
        String trimmed = text.trim();
        String upper = trimmed.toUpperCase(Locale.ROOT);
        if (upper.equals("TRIM_HORIZON")) {
            return TRIM_HORIZON;
        }
        if (upper.equals("LATEST")) {
            return LATEST;
        }
        if (upper.startsWith("AT_TIMESTAMP:")) {
            String instant = trimmed.substring("AT_TIMESTAMP:".length()).trim();
            try {
                return atTimestamp(Instant.parse(instant).toEpochMilli());
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(
                        "initial position '"
                                + text
                                + "': '"
                                + instant
                                + "' is not an ISO-8601 instant such as 2025-01-31T08:00:00Z",
                        e);
            }
        }
        throw new IllegalArgumentException(
                "initial position '"
                        + text
                        + "' is not one of TRIM_HORIZON, LATEST, AT_TIMESTAMP:<ISO-8601 instant>");
    }

    public Type type() {
        return type;
    }

    /** Only set for {@link Type#AFTER_SEQUENCE_NUMBER}. */
    public String sequenceNumber() {
        return sequenceNumber;
    }

    /** Only meaningful for {@link Type#AT_TIMESTAMP}. */
    public long timestampMillis() {
        return timestampMillis;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof StartingPosition)) {
            return false;
        }
        StartingPosition that = (StartingPosition) o;
        return type == that.type
                && timestampMillis == that.timestampMillis
                && Objects.equals(sequenceNumber, that.sequenceNumber);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, sequenceNumber, timestampMillis);
    }

    @Override
    public String toString() {
        switch (type) {
            case AT_TIMESTAMP:
                return "AT_TIMESTAMP:" + Instant.ofEpochMilli(timestampMillis);
            case AFTER_SEQUENCE_NUMBER:
                return "AFTER_SEQUENCE_NUMBER:" + sequenceNumber;
            default:
                return type.name();
        }
    }
}
