package io.connectmetrics.events;

import java.io.Serializable;
import java.util.function.LongSupplier;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.util.Collector;

/**
 * Event time for a feed that has gone quiet (a contact centre at night).
 *
 * <p>Watermarks follow event time, and only events carry it: with no events windows would
 * never close and gauges would stop. A caught-up Kinesis shard that has had nothing new for a
 * while hands over a clock record, which the parse step passes on as a bare {@link
 * EventTime#TICK} row. This step gives the tick the feed's newest event time moved on by the
 * wall-clock time since that event was read, so a quiet feed's event time keeps pace with the
 * wall clock, keeping the delay it had, and a backlog (read faster than the wall clock) is
 * never overtaken by its ticks. A tick before any event is dropped: there is no time to move
 * on from.
 *
 * <p>The newest event time and when it was read are in each checkpoint (union state: after a
 * change of parallelism every subtask takes the oldest), so a job restored on a quiet night
 * closes the windows its checkpoint holds open without waiting for the next event.
 */
public final class FeedClock
        implements FlatMapFunction<Tuple4<Long, Integer, String, byte[]>,
                        Tuple4<Long, Integer, String, byte[]>>,
                CheckpointedFunction {

    private static final long NONE = Long.MIN_VALUE;
    private static final byte[] NO_PAYLOAD = new byte[0];

    /** The wall clock in epoch milliseconds; serializable, as the function is. */
    interface WallClock extends LongSupplier, Serializable {}

    private final WallClock wallClock;
    private long newest = NONE;
    private long readAt;
    private transient ListState<Tuple2<Long, Long>> checkpointed;

    public FeedClock() {
        this(System::currentTimeMillis);
    }

    FeedClock(WallClock wallClock) {
        this.wallClock = wallClock;
    }

    @Override
    public void flatMap(
            Tuple4<Long, Integer, String, byte[]> row,
            Collector<Tuple4<Long, Integer, String, byte[]>> out) {
        if (row.f1 == EventTime.TICK) {
            if (newest != NONE) {
                long elapsed = Math.max(wallClock.getAsLong() - readAt, 0);
                out.collect(Tuple4.of(newest + elapsed, EventTime.TICK, "", NO_PAYLOAD));
            }
            return;
        }
        if (row.f1 == EventTime.EVENT && (newest == NONE || row.f0 >= newest)) {
            newest = row.f0;
            readAt = wallClock.getAsLong();
        }
        out.collect(row);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        checkpointed.clear();
        if (newest != NONE) {
            checkpointed.add(Tuple2.of(newest, readAt));
        }
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        checkpointed =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>(
                                        "newest-event", Types.TUPLE(Types.LONG, Types.LONG)));
        if (!context.isRestored()) {
            return;
        }
        for (Tuple2<Long, Long> clock : checkpointed.get()) {
            if (newest == NONE || clock.f0 < newest) {
                newest = clock.f0;
                readAt = clock.f1;
            }
        }
    }
}
