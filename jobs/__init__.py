"""The job: `core` (the domain, no Flink), the Flink operators and graph around it (`operators`,
`pipeline`, `main`), its configuration (`config`) and metric catalogue (`metrics`, the files in
`sql/`)."""
