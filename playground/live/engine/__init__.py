"""The engine: a run as a typed state and the one chunk loop (run), the ledger of
compiled chunk shapes (compile_cache), the host's limits on a config (limits). Pure
over the core; it knows no session and no server."""
