"""The load test (make load): Locust users and the runner that writes reports/load.md."""
