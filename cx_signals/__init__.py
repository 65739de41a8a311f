"""cx-signals: customer-experience signals from transcripts, telemetry and clickstream."""

__version__ = "0.1.0"
