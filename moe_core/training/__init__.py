"""Training: the step-wise trainer, the loss a step minimises, optimisers and schedules, dynamic
experts, divergence and its rollback, and batched seeds."""
