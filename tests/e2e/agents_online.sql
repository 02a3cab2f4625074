-- Test table: agents seen online (any status but Offline, not logging out) per one-minute interval.
-- dimensions: instance_id
-- time: window_start
-- measure_name: agents_online
SELECT
    instance_id,
    window_start,
    COUNT(DISTINCT CASE WHEN online THEN agent_id END) AS agents_online
FROM TABLE(TUMBLE(TABLE agent_events, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
GROUP BY instance_id, window_start, window_end
