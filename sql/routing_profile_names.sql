-- Each routing profile's name, from the agent event stream: a record when a profile's name is
-- first seen in an agent's snapshot and whenever it changes. A profile's newest record is its
-- name; join on instance_id and routing_profile_id.
-- dimensions: instance_id, routing_profile_id
-- time: event_time
-- measure_name: routing_profile_names
SELECT instance_id, id AS routing_profile_id, event_time, name AS routing_profile_name
FROM names
WHERE kind = 'ROUTING_PROFILE'
