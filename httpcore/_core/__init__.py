"""The sans-I/O core: what HTTP means, with no sockets, no trio and no ssl.

URLs, headers, the request and response models, request bodies, content
decoders, cookies, auth flows, the redirect policy, the HTTP/1.1 codec,
status codes, exceptions and the configuration values. Every module here can
be used and tested without a network; ``tests/test_structure.py`` keeps it so.
"""
