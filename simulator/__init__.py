"""A simulated Amazon Connect contact centre: both feeds in Connect's formats, and the truth.

- `simulator.settings`: what a centre is made of (channels, shifts, rates).
- `simulator.centre`: one instance, a discrete-event simulation (`Centre`, `Emitted`).
- `simulator.simulation`: several instances merged, delivery faults, the truth (`Simulation`).
- `simulator.faults`: duplicates, reordering, drops, malformed records, key casing.
- `simulator.truth`: truth lines, interval metrics (docs/simulator-truth.md).
- `simulator.records`: the two record formats.
- `simulator.output`, `simulator.publish`: JSON-lines files, Kinesis.
- `simulator.cli`: the `simulate` command's arguments and its run.
"""
