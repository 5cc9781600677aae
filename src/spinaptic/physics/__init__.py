"""Device physics: pure, batched functions and small parameter dataclasses. Imports nothing of ours above it."""
