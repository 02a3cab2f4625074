-- Real-time gauges per queue and channel (Amazon Connect's real-time metrics), sampled every
-- Job.gauge.period.ms (default 5 s) of event time; a row when they change and at least every
-- Job.gauge.refresh.ms (default 60 s):
--   contacts_in_queue = contacts waiting now, ringing ones included
--   oldest_contact_age = seconds the longest-waiting one had waited at the row's time (0 when
--     none); it grows with the clock until the next row
--   agents_* = agents whose routing profile serves the queue on the channel: online,
--     available (free slots for the channel), on_contact, after_contact_work, non_productive,
--     error, staffed; slots_active, slots_available (free slots for the channel)
-- Every standard queue and channel seen is sampled; an agent's own queue while a contact waits.
-- A live run also writes provisional rows at the next sample instant, Job.gauge.provisional.ms
-- (default 250 ms) after a contact enters or leaves the queue; that sample confirms or rewrites
-- them (a higher version).
-- dimensions: instance_id, queue_id, channel
-- time: event_time
-- measure_name: queue_realtime
SELECT
    instance_id,
    queue_id,
    channel,
    event_time,
    contacts_in_queue,
    CAST(oldest_contact_age_ms AS DOUBLE) / 1000 AS oldest_contact_age,
    agents_online,
    agents_available,
    agents_on_contact,
    agents_after_contact_work,
    agents_non_productive,
    agents_error,
    agents_staffed,
    slots_active,
    slots_available
FROM queue_gauges
