"""The API's resources, one module per noun: search, articles, suggest, health, openapi.

Each responder reads its parameters (through ``search.resources.params``, which raises
``BadQuery`` naming the parameter), calls one engine method and sets ``resp.media``. Resources
whose successful answers may be cached by browsers and proxies say so with ``cacheable = True``.
"""
