package io.connectmetrics.events;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.connectmetrics.ListCollector;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.OperatorStateStore;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.junit.jupiter.api.Test;

class FeedClockTest {

    private static final long T0 = 1_767_600_000_000L;
    private static final AtomicLong WALL = new AtomicLong();

    private static Tuple4<Long, Integer, String, byte[]> event(long eventTime) {
        return Tuple4.of(eventTime, EventTime.EVENT, "contact-1", new byte[] {1});
    }

    private static Tuple4<Long, Integer, String, byte[]> tick() {
        return Tuple4.of(0L, EventTime.TICK, "", new byte[0]);
    }

    /** The event times of the ticks {@code clock} gives at each wall time. */
    private static List<Long> ticksAt(FeedClock clock, long... wallTimes) {
        ListCollector<Tuple4<Long, Integer, String, byte[]>> out = new ListCollector<>();
        for (long wall : wallTimes) {
            WALL.set(wall);
            clock.flatMap(tick(), out);
        }
        List<Long> times = new ArrayList<>();
        out.out.forEach(row -> times.add(row.f0));
        return times;
    }

    private static void read(FeedClock clock, long wall, Tuple4<Long, Integer, String, byte[]> row) {
        WALL.set(wall);
        ListCollector<Tuple4<Long, Integer, String, byte[]>> out = new ListCollector<>();
        clock.flatMap(row, out);
        assertEquals(List.of(row), out.out, "events and links pass unchanged");
    }

    private static FeedClock clock() {
        return new FeedClock(WALL::get);
    }

    @Test
    void aTickBeforeAnyEventIsDropped() throws Exception {
        FeedClock clock = clock();
        clock.initializeState(context(new Store(), false));
        assertEquals(List.of(), ticksAt(clock, 1_000, 2_000));
    }

    @Test
    void aQuietFeedKeepsPaceWithTheWallClockFromItsNewestEvent() throws Exception {
        FeedClock clock = clock();
        clock.initializeState(context(new Store(), false));
        read(clock, 1_000, event(T0));
        read(clock, 1_500, event(T0 - 30_000)); // late: the clock keeps the newest
        read(clock, 1_600, Tuple4.of(T0 + 90_000, EventTime.LINK, "contact-0", new byte[] {2}));
        assertEquals(List.of(T0, T0 + 2_500, T0 + 2_500), ticksAt(clock, 900, 3_500, 3_500));
    }

    @Test
    void aBacklogReadFasterThanTheWallClockIsNeverOvertaken() throws Exception {
        FeedClock clock = clock();
        clock.initializeState(context(new Store(), false));
        read(clock, 1_000, event(T0));
        read(clock, 1_010, event(T0 + 60_000));
        assertEquals(List.of(T0 + 60_000 + 90), ticksAt(clock, 1_100));
    }

    @Test
    void aRestoredClockGoesOnFromTheNewestEventItsCheckpointHolds() throws Exception {
        Store store = new Store();
        FeedClock before = clock();
        before.initializeState(context(store, false));
        read(before, 1_000, event(T0));
        before.snapshotState(null);

        FeedClock after = clock();
        after.initializeState(context(store, true));
        assertEquals(List.of(T0 + 59_000), ticksAt(after, 60_000));
    }

    @Test
    void afterAChangeOfParallelismEverySubtaskTakesTheOldestClock() throws Exception {
        Store store = new Store();
        store.state.add(Tuple2.of(T0 + 5_000, 1_000L));
        store.state.add(Tuple2.of(T0, 2_000L));
        FeedClock after = clock();
        after.initializeState(context(store, true));
        assertEquals(List.of(T0 + 8_000), ticksAt(after, 10_000));
    }

    @Test
    void aClockThatSawNothingCheckpointsNothing() throws Exception {
        Store store = new Store();
        store.state.add(Tuple2.of(T0, 1_000L));
        FeedClock fresh = clock();
        fresh.initializeState(context(store, false));
        fresh.snapshotState(null);
        assertEquals(List.of(), store.state.items);
    }

    /** Operator state with one union list. */
    private static final class Store {
        final Items<Tuple2<Long, Long>> state = new Items<>();
    }

    private static FunctionInitializationContext context(Store store, boolean restored) {
        OperatorStateStore operatorState =
                proxy(OperatorStateStore.class, "getUnionListState", store.state);
        return (FunctionInitializationContext)
                Proxy.newProxyInstance(
                        FeedClockTest.class.getClassLoader(),
                        new Class<?>[] {FunctionInitializationContext.class},
                        (self, method, args) ->
                                switch (method.getName()) {
                                    case "isRestored" -> restored;
                                    case "getOperatorStateStore" -> operatorState;
                                    default ->
                                            throw new UnsupportedOperationException(
                                                    method.getName());
                                });
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, String only, Object answer) {
        return (T)
                Proxy.newProxyInstance(
                        FeedClockTest.class.getClassLoader(),
                        new Class<?>[] {type},
                        (self, method, args) -> {
                            if (!method.getName().equals(only)) {
                                throw new UnsupportedOperationException(method.getName());
                            }
                            return answer;
                        });
    }

    /** A list state in memory. */
    private static final class Items<T> implements ListState<T> {
        final List<T> items = new ArrayList<>();

        @Override
        public Iterable<T> get() {
            return new ArrayList<>(items);
        }

        @Override
        public void add(T value) {
            items.add(value);
        }

        @Override
        public void update(List<T> values) {
            items.clear();
            items.addAll(values);
        }

        @Override
        public void addAll(List<T> values) {
            items.addAll(values);
        }

        @Override
        public void clear() {
            items.clear();
        }
    }
}
