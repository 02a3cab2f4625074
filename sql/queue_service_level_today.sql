-- Today's service level so far, per queue, channel and threshold: queue_service_level summed
-- since midnight in Job.reporting.time.zone, written like queue_today (a new record with every
-- interval that has a row, timed at the start of the latest one, the local date a dimension;
-- a day's latest record holds its totals). Measures as in queue_service_level.
-- dimensions: instance_id, queue_id, channel, threshold_s, local_date
-- time: updated_at
-- measure_name: queue_service_level_today
SELECT
    instance_id,
    queue_id,
    channel,
    threshold_s,
    DATE_FORMAT(window_start, 'yyyy-MM-dd') AS local_date,
    MAX(window_start) AS updated_at,
    SUM(contacts_removed) AS contacts_removed,
    SUM(contacts_removed_within) AS contacts_removed_within,
    SUM(sum_contacts_answered_within) AS sum_contacts_answered_within,
    CAST(100 * SUM(contacts_removed_within) AS DOUBLE) / SUM(contacts_removed) AS service_level
FROM queue_service_level
GROUP BY instance_id, queue_id, channel, threshold_s, DATE_FORMAT(window_start, 'yyyy-MM-dd')
