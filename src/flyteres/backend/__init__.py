"""What the Flyte backend and Kubernetes do with a spec: platform files, defaults, caps, quotas,
override merging and out-of-memory escalation."""
