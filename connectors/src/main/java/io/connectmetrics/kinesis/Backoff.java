package io.connectmetrics.kinesis;

import java.util.concurrent.ThreadLocalRandom;

/** Bounded exponential backoff with "equal jitter": half the delay fixed, half random. */
final class Backoff {

    private final long baseMillis;
    private final long maxMillis;

    Backoff(long baseMillis, long maxMillis) {
        if (baseMillis <= 0 || maxMillis < baseMillis) {
            throw new IllegalArgumentException("need 0 < base <= max");
        }
        this.baseMillis = baseMillis;
        this.maxMillis = maxMillis;
    }

    /** Delay before retry number {@code attempt} (1 for the first retry). */
    long delayMillis(int attempt) {
        int shift = Math.min(Math.max(attempt - 1, 0), 30);
        long ceiling = Math.min(maxMillis, baseMillis << shift);
        long half = ceiling / 2;
        return half + ThreadLocalRandom.current().nextLong(ceiling - half + 1);
    }
}
