"""A phone lab of several hosts: sessions submitted to a queue on the shared PostgreSQL store, run by
`edgebench lab worker` on each host for the devices it reaches (procrastinate is the queue)."""
