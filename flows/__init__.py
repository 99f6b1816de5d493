"""vanban's orchestration layer: the clerk's CLI now; the Prefect flows of each step as they land."""
