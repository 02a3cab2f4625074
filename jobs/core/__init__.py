"""The domain, with no Flink import: parsing Amazon Connect records (`events`), the stray-time
rules (`event_guard`), order and duplicates (`event_order`), the contact lifecycle
(`contacts`), agent activity (`agents`), real-time gauges (`gauges`) and service-level targets
(`service_levels`)."""
