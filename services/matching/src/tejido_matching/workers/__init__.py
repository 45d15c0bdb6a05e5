"""Matching workers: each holds the candidates in memory (restored from the database snapshot, then
kept current from the event streams) and answers rank requests over NATS request/reply in a queue
group, so operators scale ranking by starting more worker processes."""
