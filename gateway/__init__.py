"""The HTTP/JSON gateway: validates JSON, calls the gRPC services, caches, maps errors."""
