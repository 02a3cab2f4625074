-- Contacts added to each queue per one-minute interval (Connect: CONTACTS_QUEUED).
-- OUTBOUND contacts never count as queued.
-- dimensions: instance_id, queue_id, channel
-- time: window_start
-- measure_name: queue_interval
SELECT
    instance_id,
    queue_id,
    channel,
    window_start,
    COUNT(*) AS contacts_queued
FROM TABLE(TUMBLE(TABLE contact_events, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
WHERE event_type = 'QUEUED'
  AND queue_id IS NOT NULL
  AND COALESCE(initiation_method, '') <> 'OUTBOUND'
GROUP BY instance_id, queue_id, channel, window_start, window_end
