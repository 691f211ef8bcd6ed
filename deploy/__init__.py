"""Deployment: containers, Kubernetes, Prometheus, and the local launcher."""
