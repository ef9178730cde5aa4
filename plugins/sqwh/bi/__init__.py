"""Apache Superset as the BI client of the published marts, connected as ``bi_reader``.

Superset lives in a virtual environment of its own (it pins SQLAlchemy 1.4 and pandas 2),
locked by ``bi/requirements.lock``; this package drives it from the outside: install,
metadata database, admin, the starter dashboard bundle (``bi/bundle/``), start and stop.
"""
