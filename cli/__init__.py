"""The `connect-metrics` command around the job: its subcommands (`commands`), the local
emulators and InfluxDB (`local_stack`, `local_influxdb`), a standalone Flink cluster
(`flink_cluster`), `replay`, the demo, prerequisite checks and the terminal dashboard (`top`).
The job never imports from here."""
