-- What each agent did per one-minute interval, from the agent event stream.
-- Handle time follows Connect's contact handle time: talk and hold, plus after contact work.
-- A fact counts in the interval in which it ended (a contact's talk when the conversation ended,
-- its ACW when the agent closed it), so sums over any range add up exactly.
-- dimensions: instance_id, agent_id
-- time: window_start
-- measure_name: agent_interval
SELECT
    instance_id,
    agent_id,
    window_start,
    COUNT(*) FILTER (WHERE kind = 'HANDLED') AS contacts_handled,
    COUNT(*) FILTER (WHERE kind = 'MISSED') AS contacts_missed,
    CAST(COALESCE(SUM(duration_ms) FILTER (WHERE kind IN ('HANDLED', 'ACW')), 0) AS DOUBLE) / 1000
        AS sum_handle_time,
    CAST(COALESCE(SUM(duration_ms) FILTER (WHERE kind = 'ACW'), 0) AS DOUBLE) / 1000
        AS sum_after_contact_work_time,
    COUNT(*) FILTER (WHERE kind = 'ACW') AS contacts_with_after_contact_work
FROM TABLE(TUMBLE(TABLE agent_work, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
WHERE kind IN ('HANDLED', 'MISSED', 'ACW')
GROUP BY instance_id, agent_id, window_start, window_end
