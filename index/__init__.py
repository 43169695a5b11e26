"""presse-search's indexing side: article sources, cleaning, French analysis, the Whoosh schema,
full and incremental builds, and index generations with an atomic switch. Never imports Falcon.
"""
