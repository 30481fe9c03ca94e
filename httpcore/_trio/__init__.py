"""The trio I/O layer: everything that touches a socket, a clock or a task.

Network streams and TLS, the connection pool, the HTTP/1.1 and HTTP/2
connection drivers, ``TrioClient``'s request pipeline, the dispatchers that
replace the network, and the blocking ``Client``'s portal into a trio thread.
It builds on ``httpcore._core``; ``httpcore._asyncio`` runs it inside asyncio loops.
"""
