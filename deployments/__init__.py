"""How vanban's flows are deployed: `tracking.py`, the daily schedule of track-implementation."""
