-- Today so far, per queue and channel: queue_interval summed since midnight in
-- Job.reporting.time.zone (Connect's interval reports default to "today" in the instance's
-- reporting time zone), updated with every interval that has a row: a new record whose time is
-- the start of the latest interval it includes, with the local date as the `local_date` dimension. A
-- day's latest record holds its totals (a record stamped at midnight would fall out of the
-- Timestream memory store's write window before the day ends). Measures as in queue_interval;
-- the averages and rates are for the day so far; service level: queue_service_level_today.
-- dimensions: instance_id, queue_id, channel, local_date
-- time: updated_at
-- measure_name: queue_today
SELECT
    instance_id,
    queue_id,
    channel,
    DATE_FORMAT(window_start, 'yyyy-MM-dd') AS local_date,
    MAX(window_start) AS updated_at,
    SUM(contacts_queued) AS contacts_queued,
    SUM(callbacks_queued) AS callbacks_queued,
    SUM(contacts_handled) AS contacts_handled,
    SUM(contacts_abandoned) AS contacts_abandoned,
    SUM(contacts_removed) AS contacts_removed,
    SUM(sum_queue_answer_time) AS sum_queue_answer_time,
    MAX(max_queued_time) AS max_queued_time,
    SUM(sum_abandon_time) AS sum_abandon_time,
    SUM(contacts_completed) AS contacts_completed,
    SUM(sum_handle_time) AS sum_handle_time,
    SUM(sum_hold_time) AS sum_hold_time,
    SUM(sum_after_contact_work_time) AS sum_after_contact_work_time,
    SUM(contacts_transferred_out) AS contacts_transferred_out,
    SUM(sum_queue_answer_time) / NULLIF(SUM(contacts_handled), 0) AS avg_queue_answer_time,
    SUM(sum_handle_time) / NULLIF(SUM(contacts_completed), 0) AS avg_handle_time,
    SUM(sum_after_contact_work_time) / NULLIF(SUM(contacts_completed), 0)
        AS avg_after_contact_work_time,
    SUM(sum_abandon_time) / NULLIF(SUM(contacts_abandoned), 0) AS avg_abandon_time,
    CAST(100 * SUM(contacts_abandoned) AS DOUBLE) / NULLIF(SUM(contacts_queued), 0)
        AS abandonment_rate
FROM queue_interval
GROUP BY instance_id, queue_id, channel, DATE_FORMAT(window_start, 'yyyy-MM-dd')
