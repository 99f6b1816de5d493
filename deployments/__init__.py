"""How vanban's flows are served and deployed (filled in by the workflow issue)."""
