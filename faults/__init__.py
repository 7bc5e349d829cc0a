"""The fault suite (make faults) and the throwaway services it and the load test run on."""
