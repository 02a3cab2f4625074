package io.connectmetrics.kinesis;

import java.io.Serializable;

/** Creates the client the enumerator and each reader use; serializable so it ships with the job. */
@FunctionalInterface
public interface KinesisClientFactory extends Serializable {

    /**
     * @param config the source's configuration
     * @param sdkRetries whether the client may retry on its own; readers pass false because they
     *     back off themselves and must see every failure to keep their position
     */
    KinesisShardClient create(KinesisSourceConfig config, boolean sdkRetries);
}
