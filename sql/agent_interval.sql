-- What each agent did per interval (Job.interval.minutes), from the agent event stream.
-- Handle time follows Connect's contact handle time: talk and hold, plus after contact work.
-- A fact counts in the interval in which it ended (a contact's talk when the conversation ended,
-- its ACW when the agent closed it, time in an activity when the activity changed), so sums
-- over any range add up exactly.
--   time_<activity> = seconds in that activity (Connect's precedence; see agent_realtime)
--   occupancy = 100 * time on contact and in ACW / (that + time available or ringing)
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
    COUNT(*) FILTER (WHERE kind = 'ACW') AS contacts_with_after_contact_work,
    CAST(COALESCE(SUM(duration_ms) FILTER (WHERE kind = 'ACTIVITY_TIME'
                                           AND activity = 'AVAILABLE'), 0) AS DOUBLE) / 1000
        AS time_available,
    CAST(COALESCE(SUM(duration_ms) FILTER (WHERE kind = 'ACTIVITY_TIME'
                                           AND activity = 'ON_CONTACT'), 0) AS DOUBLE) / 1000
        AS time_on_contact,
    CAST(COALESCE(SUM(duration_ms) FILTER (WHERE kind = 'ACTIVITY_TIME'
                                           AND activity = 'ACW'), 0) AS DOUBLE) / 1000
        AS time_after_contact_work,
    CAST(COALESCE(SUM(duration_ms) FILTER (WHERE kind = 'ACTIVITY_TIME'
                                           AND activity = 'INCOMING'), 0) AS DOUBLE) / 1000
        AS time_incoming,
    CAST(COALESCE(SUM(duration_ms) FILTER (WHERE kind = 'ACTIVITY_TIME'
                                           AND activity = 'NON_PRODUCTIVE'), 0) AS DOUBLE) / 1000
        AS time_non_productive,
    CAST(COALESCE(SUM(duration_ms) FILTER (WHERE kind = 'ACTIVITY_TIME'
                                           AND activity IN ('ERROR', 'MISSED', 'REJECTED')), 0)
         AS DOUBLE) / 1000 AS time_error_or_missed,
    CAST(100 * SUM(duration_ms) FILTER (WHERE kind = 'ACTIVITY_TIME'
                                        AND activity IN ('ON_CONTACT', 'ACW')) AS DOUBLE)
        / NULLIF(SUM(duration_ms) FILTER (WHERE kind = 'ACTIVITY_TIME' AND activity IN
                                          ('ON_CONTACT', 'ACW', 'AVAILABLE', 'INCOMING')), 0)
        AS occupancy
FROM TABLE(TUMBLE(TABLE agent_work, DESCRIPTOR(event_time),
                  INTERVAL '${interval_minutes}' MINUTE))
GROUP BY instance_id, agent_id, window_start, window_end
