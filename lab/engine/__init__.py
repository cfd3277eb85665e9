"""The engine: the MLP over the compiled kernels, its training state, optimizers, schedules,
regularizers, the backend choice and the kernel warm-up."""
