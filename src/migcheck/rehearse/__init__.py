"""Rehearsal under load: the changeset on seeded data while the old app's queries run.

``migcheck rehearse`` builds on the live check (``migcheck.live``): the same server
choice, runner role, template cache, runner semantics and query sources. On top of it:

* ``tables``/``seed``: read the base schema's tables and constraints and fill them with
  set-based ``INSERT ... SELECT ... FROM generate_series``, cached as a template;
* ``binding``/``traffic``: K clients replaying the old app's queries with parameters
  drawn from the seeded rows (writes rolled back);
* ``sampler``/``holder``: a separate connection sampling lock waits, and the long
  transaction of ``--long-transaction``;
* ``observe``/``measure``: when each statement ran and held its locks, and the app's
  latency, waits and errors in each window;
* ``verdicts``/``report``: findings and the JSON ``rehearsal`` object / text table;
* ``runner``: the whole run, inside the live check's signal handling and server.

Importing this package is cheap; psycopg is imported when a rehearsal runs.
"""
