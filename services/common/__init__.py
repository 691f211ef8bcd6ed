"""Plumbing shared by the gRPC services: errors, limits, server bootstrap, metrics."""
