"""Experiments built from runs: sweeps and their units of work, their results as files, the lessons
with their verdicts, and the replications of papers."""
