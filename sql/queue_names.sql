-- Each queue's name, learned from the agent event stream (contact events carry queue ids
-- only): a record when a queue's name is first seen in an agent's snapshot (its routing
-- profile's queues, or the queue of a contact it holds) and whenever it changes. A queue's
-- newest record is its name; join on instance_id and queue_id. Agent queues have no name, and
-- a queue no snapshot named has no record.
-- dimensions: instance_id, queue_id
-- time: event_time
-- measure_name: queue_names
SELECT instance_id, id AS queue_id, event_time, name AS queue_name
FROM names
WHERE kind = 'QUEUE'
