"""Small pure helpers every app may use (no models, no views)."""
