"""The fitting service: scaling-law and emergence models as plain numpy/scipy functions."""

# Fits are a pure function of (request, seed, ENGINE_VERSION); bump on any output change.
ENGINE_VERSION = "fit-0.1.0"
