"""One learner: the run between reruns (live_run), its history of metrics (history) and
the pictures the trainer takes of it (snapshots). Built on the engine."""
