-- Real-time agent gauges per routing profile, sampled and written like queue_realtime: agents
-- online, available, on contact, in after contact work, non-productive, in error, staffed, and
-- their active and available slots. Each agent has one routing profile, so each profile's
-- latest row, summed, gives the instance's totals.
-- dimensions: instance_id, routing_profile_id, routing_profile_name
-- time: event_time
-- measure_name: routing_profile_realtime
SELECT
    instance_id,
    routing_profile_id,
    routing_profile_name,
    event_time,
    agents_online,
    agents_available,
    agents_on_contact,
    agents_after_contact_work,
    agents_non_productive,
    agents_error,
    agents_staffed,
    slots_active,
    slots_available
FROM routing_profile_gauges
