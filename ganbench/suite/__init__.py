"""Running many runs: planning and executing a suite (:mod:`.tasks`), the local
process pool (:mod:`.executors`), Ray (:mod:`.cluster`), per-run claims and leases
(:mod:`.leases`), remote checkpoints (:mod:`.checkpoint_store`), progress
(:mod:`.progress`) and the TensorBoard live view (:mod:`.live`)."""
