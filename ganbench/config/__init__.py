"""Configuration: budgets and single-run settings (:mod:`.run`), benchmark files
and profiles (:mod:`.benchmarks`), quality targets (:mod:`.targets`) and sweep
search spaces (:mod:`.search_space`). Everything here is a frozen dataclass or a
parser that turns TOML / CLI input into one."""
