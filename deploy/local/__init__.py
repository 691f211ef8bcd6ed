"""The local stack without Docker: honcho runs deploy/local/Procfile."""
