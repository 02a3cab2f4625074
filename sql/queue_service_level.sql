-- Service level per queue, channel, threshold and interval (Job.interval.minutes), each queue
-- with its own thresholds (Job.service.level.thresholds, Job.service.level.queue.thresholds),
-- from the contact lifecycle; OUTBOUND never counts. A contact counts when it leaves the queue:
--   contacts_removed = answered, abandoned or callback requested (the SERVICE_LEVEL denominator)
--   contacts_removed_within = of those, within threshold_s seconds of the enqueue
--   sum_contacts_answered_within = answered within threshold_s (SUM_CONTACTS_ANSWERED_IN_X)
--   service_level = 100 * contacts_removed_within / contacts_removed (SERVICE_LEVEL X)
-- threshold_s is a dimension, so a dashboard reads each queue's targets without knowing them.
-- window_time is not written: it lets queue_service_level_today window over these rows.
-- dimensions: instance_id, queue_id, channel, threshold_s
-- time: window_start
-- measure_name: queue_service_level
WITH removed AS (
    SELECT instance_id, queue_id, channel, event_time, reason, at_ms - since_ms AS waited_ms,
           threshold_s
    FROM contact_transitions
    CROSS JOIN UNNEST(service_level_thresholds_s) AS thresholds (threshold_s)
    WHERE from_phase = 'QUEUED' AND reason IN ('ANSWERED', 'ABANDONED', 'CALLBACK')
      AND queue_id IS NOT NULL AND COALESCE(initiation_method, '') <> 'OUTBOUND'
)
SELECT
    instance_id,
    queue_id,
    channel,
    threshold_s,
    window_start,
    window_time,
    COUNT(*) AS contacts_removed,
    COUNT(*) FILTER (WHERE waited_ms <= threshold_s * 1000) AS contacts_removed_within,
    COUNT(*) FILTER (WHERE reason = 'ANSWERED' AND waited_ms <= threshold_s * 1000)
        AS sum_contacts_answered_within,
    CAST(100 * COUNT(*) FILTER (WHERE waited_ms <= threshold_s * 1000) AS DOUBLE) / COUNT(*)
        AS service_level
FROM TABLE(TUMBLE(TABLE removed, DESCRIPTOR(event_time),
                  INTERVAL '${interval_minutes}' MINUTE))
GROUP BY instance_id, queue_id, channel, threshold_s, window_start, window_end, window_time
