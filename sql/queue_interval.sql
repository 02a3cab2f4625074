-- Per queue and channel and interval (Job.interval.minutes, default 1), from the contact
-- lifecycle, so a duplicated or reordered event counts once. Amazon Connect's queue metric
-- definitions; each fact counts in the interval of the time in brackets; OUTBOUND never counts.
--   contacts_queued = put in the queue [enqueue]; callbacks_queued = callbacks among them
--   contacts_handled = answered by an agent from the queue [answer]
--   contacts_abandoned = the customer left while in queue, callbacks excluded [disconnect]
--   contacts_removed = answered, abandoned or callback requested [leaving the queue]; service
--     level within each queue's own thresholds: queue_service_level
--   sum_queue_answer_time = seconds in queue of the answered ones [answer]
--   max_queued_time = longest stay among contacts that left the queue [leaving the queue]
--   sum_abandon_time = seconds in queue of the abandoned ones [disconnect]
--   contacts_completed = answered contacts whose after contact work ended, with sum_handle_time
--     (talk + hold + ACW), sum_hold_time, sum_after_contact_work_time, and
--     contacts_transferred_out = those an agent transferred [end of ACW]
-- The avg_* and rate columns are for one interval; sum the additive parts for any other range.
-- window_time is not written: it lets queue_today window over these rows.
-- dimensions: instance_id, queue_id, channel
-- time: window_start
-- measure_name: queue_interval
WITH queue_facts AS (
    SELECT instance_id, queue_id, channel, initiation_method, event_time,
           COALESCE(to_phase = 'QUEUED', FALSE) AS enqueued,
           CASE WHEN from_phase = 'QUEUED' THEN reason END AS left_because,
           at_ms - since_ms AS waited_ms,
           CAST(NULL AS BIGINT) AS handle_ms, CAST(NULL AS BIGINT) AS hold_ms,
           CAST(NULL AS BIGINT) AS acw_ms, FALSE AS transferred_out
    FROM contact_transitions
    WHERE to_phase = 'QUEUED' OR from_phase = 'QUEUED'
    UNION ALL
    SELECT instance_id, queue_id, channel, initiation_method, event_time,
           FALSE, CAST(NULL AS STRING), CAST(NULL AS BIGINT),
           handle_ms, hold_ms, acw_ms, COALESCE(transferred_out, FALSE)
    FROM contacts_completed
    WHERE outcome = 'HANDLED' AND handle_ms IS NOT NULL
)
SELECT
    instance_id,
    queue_id,
    channel,
    window_start,
    window_time,
    COUNT(*) FILTER (WHERE enqueued) AS contacts_queued,
    COUNT(*) FILTER (WHERE enqueued AND initiation_method = 'CALLBACK') AS callbacks_queued,
    COUNT(*) FILTER (WHERE left_because = 'ANSWERED') AS contacts_handled,
    COUNT(*) FILTER (WHERE left_because = 'ABANDONED') AS contacts_abandoned,
    COUNT(*) FILTER (WHERE left_because IN ('ANSWERED', 'ABANDONED', 'CALLBACK'))
        AS contacts_removed,
    CAST(COALESCE(SUM(waited_ms) FILTER (WHERE left_because = 'ANSWERED'), 0) AS DOUBLE) / 1000
        AS sum_queue_answer_time,
    CAST(MAX(waited_ms) FILTER (WHERE left_because IN ('ANSWERED', 'ABANDONED', 'CALLBACK',
                                                       'TRANSFERRED')) AS DOUBLE) / 1000
        AS max_queued_time,
    CAST(COALESCE(SUM(waited_ms) FILTER (WHERE left_because = 'ABANDONED'), 0) AS DOUBLE) / 1000
        AS sum_abandon_time,
    COUNT(handle_ms) AS contacts_completed,
    CAST(COALESCE(SUM(handle_ms), 0) AS DOUBLE) / 1000 AS sum_handle_time,
    CAST(COALESCE(SUM(hold_ms) FILTER (WHERE handle_ms IS NOT NULL), 0) AS DOUBLE) / 1000
        AS sum_hold_time,
    CAST(COALESCE(SUM(acw_ms) FILTER (WHERE handle_ms IS NOT NULL), 0) AS DOUBLE) / 1000
        AS sum_after_contact_work_time,
    COUNT(*) FILTER (WHERE transferred_out) AS contacts_transferred_out,
    CAST(SUM(waited_ms) FILTER (WHERE left_because = 'ANSWERED') AS DOUBLE) / 1000
        / NULLIF(COUNT(*) FILTER (WHERE left_because = 'ANSWERED'), 0) AS avg_queue_answer_time,
    CAST(SUM(handle_ms) AS DOUBLE) / 1000 / NULLIF(COUNT(handle_ms), 0) AS avg_handle_time,
    CAST(SUM(acw_ms) FILTER (WHERE handle_ms IS NOT NULL) AS DOUBLE) / 1000
        / NULLIF(COUNT(handle_ms), 0) AS avg_after_contact_work_time,
    CAST(SUM(waited_ms) FILTER (WHERE left_because = 'ABANDONED') AS DOUBLE) / 1000
        / NULLIF(COUNT(*) FILTER (WHERE left_because = 'ABANDONED'), 0) AS avg_abandon_time,
    CAST(100 * COUNT(*) FILTER (WHERE left_because = 'ABANDONED') AS DOUBLE)
        / NULLIF(COUNT(*) FILTER (WHERE enqueued), 0) AS abandonment_rate
FROM TABLE(TUMBLE(TABLE queue_facts, DESCRIPTOR(event_time),
                  INTERVAL '${interval_minutes}' MINUTE))
WHERE queue_id IS NOT NULL
  AND COALESCE(initiation_method, '') <> 'OUTBOUND'
GROUP BY instance_id, queue_id, channel, window_start, window_end, window_time
