"""Catalog pipelines: products, prices, stock and statuses kept in step between two
connections, field by field, each field owned by one side (docs/catalog.md).

``ownership`` the config's table, ``match`` pairing by SKU and barcode, ``diff`` what each
field needs, ``state`` the catalog's own rows, ``runner`` one run, ``resolve`` conflicts,
``cli`` the ``catalog`` commands.  Bindings, records, intents, audit events, conflicts,
checkpoints and the lease are the engine's own.
"""
