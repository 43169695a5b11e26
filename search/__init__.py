"""presse-search's answering side: the Falcon app, the engine that queries the index, ranking.

Importing this package opens nothing: no index, no searcher (gunicorn forks after import).
"""
