"""Hostile-input fuzzing of ledgerbridge: mappers, the webhook receiver, YAML loaders.

``python -m bench.fuzz`` (``make fuzz``) runs the long version and prints one table;
``tests/fuzz`` runs the same properties, bounded, in the normal test suite.  The
modules here are shared by both:

* ``mutations`` -- hostile values and structural mutations of a JSON document;
* ``mappers``   -- the platform examples as fuzz targets and the mapping property;
* ``webhooks``  -- hostile deliveries and the receiver's property;
* ``yamls``     -- mutated configuration and mapping files and the loaders' property;
* ``expressions`` -- generated mapping expressions and the sandbox's property;
* ``secrets``   -- the plain-text secrets scan of databases, logs and cassettes;
* ``serve``     -- a real ``ledgerbridge serve`` on loopback; ``report`` -- the table.
"""
