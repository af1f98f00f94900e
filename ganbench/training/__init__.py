"""Training: the budgeted trainer (the only training loop), FLOP / time budget
accounting, checkpoints, pause points for fault tests, and sample writing."""
