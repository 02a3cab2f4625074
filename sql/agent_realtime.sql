-- Each agent's state whenever it changes (not sampled: an agent's latest record is its current
-- state): activity (Connect's precedence over its contacts, then its status: ERROR, MISSED,
-- REJECTED, ON_CONTACT, ACW, INCOMING, NON_PRODUCTIVE, AVAILABLE, OFFLINE), status name,
-- routing profile, whether it is online, and its active and available slots.
-- dimensions: instance_id, agent_id, agent_username
-- time: event_time
-- measure_name: agent_realtime
SELECT
    instance_id,
    agent_id,
    agent_username,
    event_time,
    activity,
    status_name,
    routing_profile_name,
    online,
    slots_active,
    slots_available
FROM agent_facts
