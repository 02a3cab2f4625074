package io.connectmetrics.kinesis;

import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkSystemSetting;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.KinesisClientBuilder;
import software.amazon.awssdk.services.kinesis.model.AccessDeniedException;
import software.amazon.awssdk.services.kinesis.model.ExpiredIteratorException;
import software.amazon.awssdk.services.kinesis.model.ExpiredNextTokenException;
import software.amazon.awssdk.services.kinesis.model.GetRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.InternalFailureException;
import software.amazon.awssdk.services.kinesis.model.KmsAccessDeniedException;
import software.amazon.awssdk.services.kinesis.model.KmsThrottlingException;
import software.amazon.awssdk.services.kinesis.model.LimitExceededException;
import software.amazon.awssdk.services.kinesis.model.ListShardsRequest;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ResourceInUseException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/** {@link KinesisShardClient} on the AWS SDK v2 synchronous Kinesis client. */
public final class AwsKinesisShardClient implements KinesisShardClient {

    /** The factory a {@link KinesisShardSource} uses unless told otherwise. */
    public static final KinesisClientFactory FACTORY = AwsKinesisShardClient::create;

    private static final Set<String> AUTH_ERROR_CODES =
            Set.of(
                    "AccessDenied",
                    "AccessDeniedException",
                    "UnrecognizedClientException",
                    "InvalidSignatureException",
                    "IncompleteSignature",
                    "InvalidClientTokenId",
                    "MissingAuthenticationToken",
                    "ExpiredToken",
                    "ExpiredTokenException",
                    "NotAuthorized");

    private final KinesisClient kinesis;

    AwsKinesisShardClient(KinesisClient kinesis) {
        this.kinesis = kinesis;
    }

    public static AwsKinesisShardClient create(KinesisSourceConfig config, boolean sdkRetries) {
        KinesisClientBuilder builder =
                KinesisClient.builder()
                        .region(Region.of(config.region()))
                        .credentialsProvider(DefaultCredentialsProvider.builder().build())
                        .httpClientBuilder(
                                UrlConnectionHttpClient.builder()
                                        .connectionTimeout(Duration.ofSeconds(5))
                                        .socketTimeout(Duration.ofSeconds(30)))
                        .overrideConfiguration(
                                ClientOverrideConfiguration.builder()
                                        .apiCallAttemptTimeout(Duration.ofSeconds(30))
                                        .apiCallTimeout(Duration.ofSeconds(90))
                                        .retryStrategy(
                                                sdkRetries
                                                        ? AwsRetryStrategy.forRetryMode(
                                                                RetryMode.STANDARD)
                                                        : AwsRetryStrategy.doNotRetry())
                                        .build());
        if (config.endpoint() != null) {
            builder.endpointOverride(URI.create(config.endpoint()));
            // JSON instead of CBOR: kinesis-mock encodes some GetRecords pages in CBOR that the
            // SDK cannot read ("Unable to unmarshall response (Index N out of bounds for length
            // N)"), which stalled a shard after a restore. Kinesis itself speaks both; the
            // setting is read per request and only Kinesis uses CBOR in this JVM.
            System.setProperty(SdkSystemSetting.CBOR_ENABLED.property(), "false");
        }
        return new AwsKinesisShardClient(builder.build());
    }

    @Override
    public List<ShardInfo> listShards(String streamName) {
        List<ShardInfo> shards = new ArrayList<>();
        String nextToken = null;
        do {
            ListShardsRequest request =
                    nextToken == null
                            ? ListShardsRequest.builder().streamName(streamName).build()
                            : ListShardsRequest.builder().nextToken(nextToken).build();
            ListShardsResponse response = call(() -> kinesis.listShards(request));
            for (Shard shard : response.shards()) {
                boolean closed =
                        shard.sequenceNumberRange() != null
                                && shard.sequenceNumberRange().endingSequenceNumber() != null;
                shards.add(
                        new ShardInfo(
                                shard.shardId(),
                                shard.parentShardId(),
                                shard.adjacentParentShardId(),
                                closed));
            }
            nextToken = response.nextToken();
        } while (nextToken != null && !nextToken.isEmpty());
        return shards;
    }

    @Override
    public String getShardIterator(String streamName, String shardId, StartingPosition position) {
        GetShardIteratorRequest.Builder request =
                GetShardIteratorRequest.builder().streamName(streamName).shardId(shardId);
        switch (position.type()) {
            case TRIM_HORIZON:
                request.shardIteratorType(ShardIteratorType.TRIM_HORIZON);
                break;
            case LATEST:
                request.shardIteratorType(ShardIteratorType.LATEST);
                break;
            case AT_TIMESTAMP:
                request.shardIteratorType(ShardIteratorType.AT_TIMESTAMP)
                        .timestamp(Instant.ofEpochMilli(position.timestampMillis()));
                break;
            case AFTER_SEQUENCE_NUMBER:
                request.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER)
                        .startingSequenceNumber(position.sequenceNumber());
                break;
            default:
                throw new IllegalArgumentException("unsupported position " + position);
        }
        GetShardIteratorRequest built = request.build();
        try {
            return call(() -> kinesis.getShardIterator(built)).shardIterator();
        } catch (KinesisClientException e) {
            if (e.kind() != KinesisClientException.Kind.STREAM_NOT_FOUND) {
                throw e;
            }
            // ResourceNotFound is also the answer for a shard past retention; tell them apart.
            boolean shardListed =
                    listShards(streamName).stream().anyMatch(s -> s.shardId().equals(shardId));
            if (shardListed) {
                throw new KinesisClientException(
                        KinesisClientException.Kind.TRANSIENT, e.getMessage(), e.getCause());
            }
            throw new KinesisClientException(
                    KinesisClientException.Kind.SHARD_NOT_FOUND,
                    "shard " + shardId + " no longer exists: " + e.getMessage(),
                    e.getCause());
        }
    }

    @Override
    public GetRecordsResult getRecords(String shardIterator, int limit) {
        GetRecordsRequest request =
                GetRecordsRequest.builder().shardIterator(shardIterator).limit(limit).build();
        GetRecordsResponse response = call(() -> kinesis.getRecords(request));
        List<KinesisRecord> records = new ArrayList<>(response.records().size());
        for (Record record : response.records()) {
            Instant arrival = record.approximateArrivalTimestamp();
            records.add(
                    new KinesisRecord(
                            record.sequenceNumber(),
                            arrival == null ? null : arrival.toEpochMilli(),
                            record.data().asByteArray()));
        }
        return new GetRecordsResult(
                records, response.nextShardIterator(), response.millisBehindLatest());
    }

    @Override
    public void close() {
        kinesis.close();
    }

    private static <T> T call(Supplier<T> request) {
        try {
            return request.get();
        } catch (SdkException e) {
            throw classify(e);
        }
    }

    static KinesisClientException classify(SdkException e) {
        return new KinesisClientException(kindOf(e), describe(e), e);
    }

    private static KinesisClientException.Kind kindOf(SdkException e) {
        if (e instanceof ExpiredIteratorException) {
            return KinesisClientException.Kind.EXPIRED_ITERATOR;
        }
        if (e instanceof ProvisionedThroughputExceededException
                || e instanceof LimitExceededException
                || e instanceof KmsThrottlingException) {
            return KinesisClientException.Kind.THROTTLED;
        }
        if (e instanceof ResourceNotFoundException) {
            return KinesisClientException.Kind.STREAM_NOT_FOUND;
        }
        if (e instanceof ResourceInUseException
                || e instanceof ExpiredNextTokenException
                || e instanceof InternalFailureException) {
            return KinesisClientException.Kind.TRANSIENT;
        }
        if (e instanceof AccessDeniedException || e instanceof KmsAccessDeniedException) {
            return KinesisClientException.Kind.ACCESS_DENIED;
        }
        if (e instanceof AwsServiceException) {
            AwsServiceException service = (AwsServiceException) e;
            String code =
                    service.awsErrorDetails() == null
                            ? null
                            : service.awsErrorDetails().errorCode();
            if (code != null && AUTH_ERROR_CODES.contains(code)) {
                return KinesisClientException.Kind.ACCESS_DENIED;
            }
            if (service.isThrottlingException() || service.statusCode() == 429) {
                return KinesisClientException.Kind.THROTTLED;
            }
            if (service.statusCode() == 403) {
                return KinesisClientException.Kind.ACCESS_DENIED;
            }
            if (service.statusCode() >= 500) {
                return KinesisClientException.Kind.TRANSIENT;
            }
            return KinesisClientException.Kind.FATAL;
        }
        if (e instanceof SdkClientException) {
            String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
            if (message.contains("unable to load credentials")
                    || message.contains("credentials provider")) {
                return KinesisClientException.Kind.ACCESS_DENIED;
            }
            return KinesisClientException.Kind.TRANSIENT;
        }
        return e.retryable()
                ? KinesisClientException.Kind.TRANSIENT
                : KinesisClientException.Kind.FATAL;
    }

    private static String describe(SdkException e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            message = e.getClass().getSimpleName();
        }
        Throwable cause = e.getCause();
        if (e instanceof SdkClientException && cause != null && cause.getMessage() != null) {
            if (!message.contains(cause.getMessage())) {
                message = message + " (" + cause.getClass().getSimpleName() + ": "
                        + cause.getMessage() + ")";
            }
        }
        return message;
    }
}
