"""Adapters from real exports (Snowplow, help desks, Twitter support threads, OpenTelemetry, declarative mappings)
onto the input contracts: see `base.Adapter`."""
