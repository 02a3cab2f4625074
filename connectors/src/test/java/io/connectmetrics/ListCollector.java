package io.connectmetrics;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;

/** A collector that keeps what a function emits, for the tests to read. */
public final class ListCollector<T> implements Collector<T> {

    public final List<T> out = new ArrayList<>();

    @Override
    public void collect(T record) {
        out.add(record);
    }

    @Override
    public void close() {}
}
