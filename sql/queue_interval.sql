-- Contacts added to each queue per one-minute interval (Connect: CONTACTS_QUEUED), counted from
-- the contact lifecycle, so a duplicated or reordered QUEUED event counts once.
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
FROM TABLE(TUMBLE(TABLE contact_transitions, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
WHERE to_phase = 'QUEUED'
  AND queue_id IS NOT NULL
  AND COALESCE(initiation_method, '') <> 'OUTBOUND'
GROUP BY instance_id, queue_id, channel, window_start, window_end
