package io.connectmetrics.events;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * Event time and keys of the Python job's parsed events, in the JVM. The parse step emits
 * (event time in epoch milliseconds, kind, key, the pickled event): an {@link #EVENT}, a {@link
 * #LINK} (an event for another contact's key, derived from one of this contact's events) or a
 * clock {@link #TICK}, which the feed's {@link FeedClock} times, moves the watermark on and goes
 * no further. A Python timestamp
 * assigner, a Python filter and a Python key selector would each be a round trip of every
 * event between the JVM and the Python worker.
 */
public final class EventTime {

    public static final int TICK = 0;
    public static final int EVENT = 1;
    public static final int LINK = 2;

    private EventTime() {}

    /**
     * {@code parsed} with its ticks timed by the feed's {@link FeedClock} (operator id {@code
     * clockUid}, its name with spaces for dashes), its event time as the record timestamp and
     * watermarks {@code allowedLatenessMillis} behind the newest one; an input quiet for {@code
     * idleTimeoutMillis} stops holding the watermark back.
     */
    public static DataStream<Tuple4<Long, Integer, String, byte[]>> withEventTime(
            DataStream<Tuple4<Long, Integer, String, byte[]>> parsed,
            long allowedLatenessMillis,
            long idleTimeoutMillis,
            String clockUid) {
        return parsed.flatMap(new FeedClock(), parsed.getType())
                .name(clockUid.replace('-', ' '))
                .uid(clockUid)
                .assignTimestampsAndWatermarks(strategy(allowedLatenessMillis, idleTimeoutMillis))
                .name("event time");
    }

    /** The pickled events (no links, no ticks). */
    public static DataStream<byte[]> events(
            DataStream<Tuple4<Long, Integer, String, byte[]>> timed,
            TypeInformation<byte[]> pickledType) {
        return timed.flatMap(new Events(), pickledType).name("events");
    }

    /**
     * Events and links as (key, pickled event) rows, the input a keyed Python operator takes
     * (what PyFlink's own key_by makes in Python).
     */
    public static DataStream<Row> keyed(
            DataStream<Tuple4<Long, Integer, String, byte[]>> timed, TypeInformation<Row> rowType) {
        return timed.flatMap(new Keyed(), rowType).name("keyed events");
    }

    static WatermarkStrategy<Tuple4<Long, Integer, String, byte[]>> strategy(
            long allowedLatenessMillis, long idleTimeoutMillis) {
        return WatermarkStrategy.<Tuple4<Long, Integer, String, byte[]>>forBoundedOutOfOrderness(
                        Duration.ofMillis(allowedLatenessMillis))
                .withTimestampAssigner(new FirstField())
                .withIdleness(Duration.ofMillis(idleTimeoutMillis));
    }

    /** The event time carried in the first field. */
    static final class FirstField
            implements SerializableTimestampAssigner<Tuple4<Long, Integer, String, byte[]>> {
        @Override
        public long extractTimestamp(
                Tuple4<Long, Integer, String, byte[]> row, long recordTimestamp) {
            return row.f0;
        }
    }

    /** The pickled event of an event row. */
    static final class Events
            implements FlatMapFunction<Tuple4<Long, Integer, String, byte[]>, byte[]> {
        @Override
        public void flatMap(Tuple4<Long, Integer, String, byte[]> row, Collector<byte[]> out) {
            if (row.f1 == EVENT) {
                out.collect(row.f3);
            }
        }
    }

    /** (key, pickled event) of an event or link row. */
    static final class Keyed
            implements FlatMapFunction<Tuple4<Long, Integer, String, byte[]>, Row> {
        @Override
        public void flatMap(Tuple4<Long, Integer, String, byte[]> row, Collector<Row> out) {
            if (row.f1 != TICK) {
                out.collect(Row.of(row.f2, row.f3));
            }
        }
    }
}
