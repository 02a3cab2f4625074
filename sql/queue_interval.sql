-- Per queue and channel and one-minute interval, from the contact lifecycle, so a duplicated or
-- reordered event counts once. Connect's queue metric definitions, each counted in the minute
-- of the time in brackets; OUTBOUND never counts:
--   contacts_queued = put in the queue [enqueue]
--   contacts_handled = answered by an agent from the queue [answer]
--   contacts_abandoned = the customer left while in queue, callbacks excluded [disconnect]
--   sum_contacts_answered_in_X = answered within X s of the enqueue [answer]
--   contacts_removed, contacts_removed_in_X = left the queue (answered, abandoned or callback),
--     within X s; service level X = contacts_removed_in_X / contacts_removed [leave]
--   sum_queue_answer_time = seconds in queue of the answered ones; average queue answer time =
--     sum_queue_answer_time / contacts_handled over any range [answer]
-- dimensions: instance_id, queue_id, channel
-- time: window_start
-- measure_name: queue_interval
SELECT
    instance_id,
    queue_id,
    channel,
    window_start,
    COUNT(*) FILTER (WHERE to_phase = 'QUEUED') AS contacts_queued,
    COUNT(*) FILTER (WHERE from_phase = 'QUEUED' AND reason = 'ANSWERED') AS contacts_handled,
    COUNT(*) FILTER (WHERE from_phase = 'QUEUED' AND reason = 'ABANDONED') AS contacts_abandoned,
    COUNT(*) FILTER (WHERE from_phase = 'QUEUED' AND reason = 'ANSWERED'
                     AND at_ms - since_ms <= 20000) AS sum_contacts_answered_in_20,
    COUNT(*) FILTER (WHERE from_phase = 'QUEUED' AND reason = 'ANSWERED'
                     AND at_ms - since_ms <= 60000) AS sum_contacts_answered_in_60,
    COUNT(*) FILTER (WHERE from_phase = 'QUEUED'
                     AND reason IN ('ANSWERED', 'ABANDONED', 'CALLBACK')) AS contacts_removed,
    COUNT(*) FILTER (WHERE from_phase = 'QUEUED' AND reason IN ('ANSWERED', 'ABANDONED', 'CALLBACK')
                     AND at_ms - since_ms <= 20000) AS contacts_removed_in_20,
    COUNT(*) FILTER (WHERE from_phase = 'QUEUED' AND reason IN ('ANSWERED', 'ABANDONED', 'CALLBACK')
                     AND at_ms - since_ms <= 60000) AS contacts_removed_in_60,
    CAST(COALESCE(SUM(at_ms - since_ms) FILTER (WHERE from_phase = 'QUEUED'
                                                AND reason = 'ANSWERED'), 0) AS DOUBLE) / 1000
        AS sum_queue_answer_time
FROM TABLE(TUMBLE(TABLE contact_transitions, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
WHERE queue_id IS NOT NULL
  AND COALESCE(initiation_method, '') <> 'OUTBOUND'
GROUP BY instance_id, queue_id, channel, window_start, window_end
